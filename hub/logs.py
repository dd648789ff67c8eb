"""Structured JSON logs with a request id on every line.

:func:`configure_logging` installs one stdlib handler writing one JSON object per line to stderr:
``{"ts", "level", "logger", "msg", "request_id", ...extra}``. The request id comes from :data:`request_id_var`, set by
the app for each HTTP request (and copied into the tasks it spawns), so every line a request causes carries it.

What may be logged: reason codes, connector names, method names, counts, durations, hashed user ids. Never tokens,
credential values, tool arguments or results (the pipeline's audit log records value-free findings instead).
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import sys
import time
from typing import Any

import orjson

#: The current request's id ("-" outside a request).
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("hub_request_id", default="-")

#: ``LogRecord`` attributes that are not user-supplied ``extra`` fields.
_STANDARD = frozenset(vars(logging.LogRecord("x", 0, "x", 0, "x", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record. ``extra={...}`` keys are added as top-level fields."""

    def format(self, record: logging.LogRecord) -> str:
        """One JSON line: UTC ``ts`` (ms), level, logger, msg, request_id and extras; exceptions as ``exc_type``
        only."""
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in out:
                out[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type only: tracebacks can quote local values (arguments, credentials).
            out["exc_type"] = record.exc_info[0].__name__
        return orjson.dumps(out, default=str).decode()


def configure_logging(level: str = "INFO", *, stream: Any = None) -> None:
    """Route the root logger (and uvicorn's) through :class:`JsonFormatter`. Idempotent."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    # Per-request access lines come from hub.app with the request id; uvicorn's would duplicate them without it.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


def user_ref(user_id: str) -> str:
    """A short stable pseudonym for a user id, for logs and metrics (user ids are e-mails in dev mode)."""
    return "u_" + hashlib.sha256(user_id.encode()).hexdigest()[:12]


__all__ = ["JsonFormatter", "configure_logging", "request_id_var", "user_ref"]

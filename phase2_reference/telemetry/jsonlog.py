"""JSON logs: one object per line on stderr, with a fixed set of fields.

Only whitelisted fields are written, so a header, token or secret handed to a logger by mistake
never reaches the output.

The access log (one line per request) skips the logging machinery once `configure_logging` has
set up stderr: its lines are built directly and written once per event-loop turn, since a
LogRecord, a formatter call and a flushed write per request would cost more than answering a GET.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

FIELDS = (
    "request_id",
    "method",
    "route",
    "status",
    "duration_ms",
    "tenant",
    "client_id",
    "error",
    "issuer",
    "url",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in FIELDS:
            value = record.__dict__.get(field)
            if value is not None:
                entry[field] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The operator needs the exception type to debug; the trace stays out of responses.
            entry["exception"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


ACCESS_LOGGER = logging.getLogger("phase2_reference.access")
_direct: IO[str] | None = None  # stderr, once configure_logging made the JSON lines ours to write
_pending: list[str] = []


def log_access(**fields: Any) -> None:
    """Log one answered request at INFO, with the given whitelisted fields."""
    if not ACCESS_LOGGER.isEnabledFor(logging.INFO):
        return
    if _direct is None:
        ACCESS_LOGGER.info("request", extra=fields)
        return
    entry = {
        "ts": datetime.now(tz=UTC).isoformat(timespec="milliseconds"),
        "level": "info",
        "logger": ACCESS_LOGGER.name,
        "message": "request",
        **{name: fields[name] for name in FIELDS if fields.get(name) is not None},
    }
    _pending.append(json.dumps(entry, ensure_ascii=False) + "\n")
    if len(_pending) == 1:
        try:
            asyncio.get_running_loop().call_soon(flush_access_log)
        except RuntimeError:
            flush_access_log()


def flush_access_log() -> None:
    if _direct is not None and _pending:
        lines = "".join(_pending)
        _pending.clear()
        _direct.write(lines)
        _direct.flush()


def configure_logging(level: str) -> None:
    global _direct
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers[:] = []
        uvicorn_logger.propagate = True
    _direct = sys.stderr

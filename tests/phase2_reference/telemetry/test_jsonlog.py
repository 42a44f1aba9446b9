"""JSON log lines with whitelisted fields only."""

from __future__ import annotations

import json
import logging
import sys

from phase2_reference.telemetry.jsonlog import JsonFormatter


def record(**extra: object) -> logging.LogRecord:
    entry = logging.LogRecord("phase2_reference.access", logging.INFO, __file__, 1, "request", None, None)
    entry.__dict__.update(extra)
    return entry


def test_one_json_object_with_known_fields_only() -> None:
    line = JsonFormatter().format(
        record(
            request_id="r1",
            status=200,
            duration_ms=1.5,
            authorization="Bearer x",
            token="secret",
            tenant="tenant-a",
        )
    )
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "request"
    assert entry["level"] == "info"
    assert entry["logger"] == "phase2_reference.access"
    assert entry["request_id"] == "r1"
    assert entry["tenant"] == "tenant-a"
    assert "authorization" not in entry
    assert "secret" not in line
    assert "Bearer" not in line


def test_exceptions_name_their_type() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        entry = record()
        entry.exc_info = sys.exc_info()
    logged = json.loads(JsonFormatter().format(entry))
    assert logged["exception"] == "ValueError"
    assert "Traceback" in logged["traceback"]

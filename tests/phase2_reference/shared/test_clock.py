"""RFC 3339 timestamps."""

from __future__ import annotations

from datetime import datetime

from phase2_reference.shared.clock import rfc3339, timestamp


def test_utc_with_z_and_milliseconds() -> None:
    assert rfc3339(0) == "1970-01-01T00:00:00.000Z"
    assert rfc3339(1795600000.1234) == "2026-11-25T09:46:40.123Z"
    parsed = datetime.fromisoformat(timestamp().replace("Z", "+00:00"))
    assert parsed.utcoffset() is not None

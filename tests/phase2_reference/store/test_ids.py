"""Resource ids: RFC 9562 version 7 UUIDs, ordered by creation time."""

from __future__ import annotations

import time
import uuid

from phase2_reference.gateway.validation import FORMAT_CHECKER
from phase2_reference.store.ids import new_id


def test_version_7_uuids_in_time_order() -> None:
    first = new_id()
    time.sleep(0.002)
    second = new_id()
    for value in (first, second):
        parsed = uuid.UUID(value)
        assert parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == value
        assert FORMAT_CHECKER.conforms(value, "uuid")
    assert first < second
    assert abs(int(first.replace("-", "")[:12], 16) - time.time() * 1000) < 5_000
    assert len({new_id() for _ in range(1000)}) == 1000

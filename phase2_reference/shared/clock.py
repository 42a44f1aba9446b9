"""Time as the API shows it: RFC 3339 timestamps in UTC with a `Z`, millisecond precision."""

from __future__ import annotations

import time

_second_cache: tuple[int, str] = (-1, "")


def now() -> float:
    return time.time()


def rfc3339(epoch_seconds: float) -> str:
    global _second_cache
    whole = int(epoch_seconds)
    cached_second, prefix = _second_cache
    if whole != cached_second:
        # Formatting the date and time of day dominates; it changes once a second.
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _second_cache = (whole, prefix)
    milliseconds = int((epoch_seconds - whole) * 1000)
    return f"{prefix}.{milliseconds:03d}Z"


def timestamp() -> str:
    return rfc3339(now())

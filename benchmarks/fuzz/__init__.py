"""Malformed requests against every operation of the contract: each must be a 4xx problem and change nothing.

    python -m benchmarks.fuzz [--requests 10000] [--seed 1] [--transport http|asgi]

The operations, their methods, paths, parameters (with their schemas), security and request bodies
(with their examples) are read from openapi/phase2.yaml by the suite's own loader
(`conformance.contract`). Each generated request takes one operation (round robin, so every
operation gets its share) and breaks exactly one thing about it, everything else being valid (a
valid token, the example body, valid parameters):

- credentials: none, garbage, huge, the wrong scheme, a tampered signature, a read-only client on a
  write operation;
- the request line: a method the path does not declare, a path with a bad UUID or plugin name
  (junk, NUL, non-ASCII, percent-encoded slashes, 8 KiB), a trailing segment;
- parameters: out-of-range, non-numeric, non-ASCII-digit and repeated limits, wait and
  max_events, bad enums and UUIDs in filters, bad and forged cursors and a cursor of another list,
  bad Last-Event-ID, malformed, missing and stale If-Match;
- bodies: broken JSON, invalid UTF-8, raw NUL bytes, lone surrogates, 100,000-deep nesting,
  integers of 5,000 digits, wrong types, unknown fields, missing required fields, the wrong
  top-level type, an empty body, the wrong or a missing Content-Type, a charset other than
  UTF-8, bodies over 1 MiB;

and a third of them also carry harmless noise: an invalid X-Request-ID, fifty junk headers, a
16 KiB header, an odd Accept, a garbage traceparent. Over HTTP, 2% are raw bytes no HTTP client
would send (NUL in a header, broken request lines, a TLS handshake, bad Content-Length, bad
chunking), written to the socket directly.

Every answer must be a 4xx `application/problem+json` document whose `status` is the HTTP status,
and the status expected for the defect (e.g. 415 for a wrong media type, 422 for a schema
violation). Nothing may be written: the SQLite file's worlds, runtimes, events, refresh tokens and
revocations are the same before and after, and the fuzz's token still works.

`--transport http` (default) serves `python -m phase2_reference serve --data-dir DIR` and sends real
HTTP over loopback; `asgi` calls `create_app` in-process through httpx.ASGITransport. Prints the
status histogram and exits 1 on any violation.

The package: `operations` (the contract as the generator reads it), `generator` (one malformed
request), `raw` (raw bytes), `client` (sending, fixtures), `invariants` (judging an answer, the
store's snapshot), `report`, `run` and `cli`.
"""

from benchmarks.fuzz.generator import Fixtures
from benchmarks.fuzz.operations import load_operations
from benchmarks.fuzz.raw import raw_requests
from benchmarks.fuzz.report import Outcome
from benchmarks.fuzz.run import run

__all__ = ["Fixtures", "Outcome", "load_operations", "raw_requests", "run"]

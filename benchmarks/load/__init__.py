"""A mixed load on the reference with a file-backed store, then proof that nothing went wrong.

    python -m benchmarks.load [--clients 50] [--duration 60] [--kill-after SECONDS] [--seed 1]

`--clients` asyncio clients (httpx, one keep-alive connection each), half in each of the two
tenants of fixtures/clients.yaml, drive one `python -m phase2_reference serve --data-dir DIR`
(uvicorn, SQLite in a temporary directory) on loopback for `--duration` seconds. Each picks
operations at random: creates, merge-patch updates with If-Match, reads, deletes (with and
without If-Match), runtime starts, stops, reads and deletes, walks of /worlds, tails of /events
as pages and as a server-sent stream, filtered runtime lists, and reads and deletes of the other
tenant's worlds. Clients of a tenant share its worlds, so updates race on the same ETag.

Every answer is recorded against a model of what was acknowledged. During the load:

- no 5xx, no status outside what the operation may answer in a race, no lost connection;
- If-Match is atomic: two updates are never acknowledged with the same version;
- a read never shows less than what was acknowledged before it was sent, and never another
  representation of an acknowledged version; the other tenant's worlds are 404 to read and delete;
- a walk of /worlds never repeats a world, lists every world that existed throughout it and
  no world deleted before it began; re-reading an events cursor gives the same events again.

Afterwards (runtimes given time to settle), /worlds, /runtimes and /events are walked to their end
and compared with the SQLite file itself, and:

- every acknowledged create is there unless its delete was acknowledged; every acknowledged
  update's version is reached; every acknowledged delete is gone;
- every change has exactly one event, in order: per world `world.created` (the 201's body), one
  `world.updated` per version (each acknowledged one with the 200's body), `world.deleted` last;
  per runtime a path of the state machine with versions growing by one, its `runtime.stopping`
  events answering acknowledged stops; the last event of each resource is what the store holds;
- no phantom events: none for a change that was never acknowledged (or, across a kill, left
  unanswered), none for another tenant;
- every tail of /events (pages and stream) read during the load is a prefix of the final log.

With `--kill-after S` the server is SIGKILLed S seconds into the load and restarted on the same
data directory (a new port; clients log in again). A request left unanswered by the kill may or
may not have happened; the checks allow exactly that and nothing more. The load then resumes until
`--duration`, and runtimes caught mid-transition must resume and settle.

Prints a report and exits 1 on any violation.

The package: `model` (what was acknowledged), `client` (one load client), `invariants` (the checks
after the load), `report`, `config`, `run` (serve, load, kill, verify) and `cli`.
"""

from benchmarks.load.config import LoadConfig
from benchmarks.load.report import LoadReport
from benchmarks.load.run import run

__all__ = ["LoadConfig", "LoadReport", "run"]

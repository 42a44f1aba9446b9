"""`python -m benchmarks.load`: arguments, the run, the report, the exit code."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
from pathlib import Path

from benchmarks.load.config import LoadConfig
from benchmarks.load.run import run


def _summary() -> str:
    """The first paragraph of the package's docstring: what the benchmark does."""
    import benchmarks.load

    return (benchmarks.load.__doc__ or "").split("\n\n")[0]


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=_summary())
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--kill-after", type=float, help="SIGKILL the server this many seconds in, then restart it")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runtime-step-ms", type=int, default=50)
    parser.add_argument("--data-dir", type=Path, help="keep the SQLite store here (default: a temporary directory)")
    parser.add_argument("--server-log", type=Path, help="write the server's JSON logs here")
    parser.add_argument("--json", type=Path, help="also write the summary as JSON here")
    parser.add_argument(
        "--fault", action="append", default=[], help="serve with this reference fault (test-only: the checks must fail)"
    )
    args = parser.parse_args(argv)
    if args.clients < 2:
        parser.error("--clients must be at least 2 (one per tenant)")
    if args.kill_after is not None and not 0 < args.kill_after < args.duration:
        parser.error("--kill-after must lie inside the duration")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if importlib.util.find_spec("sniffio") is None:
        # httpcore runs `import sniffio` on every request; when it is absent each miss searches
        # sys.path again (a fifth of the generator's CPU). A None entry makes the miss immediate.
        # Only here, in the script's own process: find_spec raises on such an entry.
        sys.modules["sniffio"] = None  # type: ignore[assignment]
    config = LoadConfig(
        clients=args.clients,
        duration=args.duration,
        kill_after=args.kill_after,
        seed=args.seed,
        runtime_step_ms=args.runtime_step_ms,
        data_dir=args.data_dir,
        log_file=args.server_log,
        faults=tuple(args.fault),
    )
    try:
        import uvloop  # the load generator shares two cores with the server: spend less on the loop
    except ImportError:
        report = asyncio.run(run(config))
    else:
        report = uvloop.run(run(config))
    print(report.render())
    if args.json is not None:
        args.json.write_text(json.dumps(report.summary(), indent=2) + "\n")
    return 0 if report.ok else 1

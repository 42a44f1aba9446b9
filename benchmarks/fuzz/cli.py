"""`python -m benchmarks.fuzz`: arguments, the run, the outcome, the exit code."""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path

from benchmarks.fuzz.run import run


def _summary() -> str:
    """The first paragraph of the package's docstring: what the benchmark does."""
    import benchmarks.fuzz

    return (benchmarks.fuzz.__doc__ or "").split("\n\n")[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fuzz", description=_summary())
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--transport", choices=("http", "asgi"), default="http")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", type=Path, help="also write the outcome as JSON here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="phase2-fuzz-") as data_dir:
        outcome = asyncio.run(run(args.requests, args.seed, args.transport, Path(data_dir), args.concurrency))
    print(outcome.render())
    if args.json is not None:
        summary = {
            "requests": outcome.count,
            "seconds": round(outcome.seconds, 1),
            "statuses": dict(sorted(outcome.statuses.items())),
            "defects": dict(sorted(outcome.by_defect.items())),
            "operations": dict(sorted(outcome.by_operation.items())),
            "violations": dict(outcome.violations),
        }
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if outcome.ok else 1

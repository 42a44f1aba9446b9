"""False alarms: the reference must pass the suite on every seed, not just the fixed one.

    python -m benchmarks.seeds [--first 1] [--count 20] [--profile standard] [--jobs 2]

Runs `phase2-conformance run --reference --seed N --profile P` for N = first … first + count - 1,
`--jobs` at a time, each with its own report directory (kept under `--report-dir` if given, else
in a temporary directory). A seed replays the same generated data, so any seed on which the
reference fails is a reproducible false alarm of the suite (or a bug of the reference).

Prints one row per seed (verdict, exit code, requirements passed / failed / not applicable,
requests, seconds, failed requirement IDs) and exits 1 unless every seed passed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

RUN_TIMEOUT = 1800.0


@dataclass(frozen=True)
class SeedResult:
    seed: int
    exit_code: int
    verdict: str
    passed: int
    failed: int
    not_applicable: int
    skipped: int
    requests: int
    seconds: float
    failures: tuple[str, ...]
    errors: tuple[str, ...]  # why the run reached no clean verdict (the summary's `errors`)
    stderr_tail: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.verdict == "pass"


def suite_command() -> list[str]:
    script = Path(sys.executable).with_name("phase2-conformance")
    return [str(script)] if script.exists() else [sys.executable, "-m", "conformance"]


def run_seed(seed: int, profile: str, report_root: Path) -> SeedResult:
    report_dir = report_root / f"seed-{seed}"
    command = [
        *suite_command(),
        "run",
        "--reference",
        "--seed",
        str(seed),
        "--profile",
        profile,
        "--report-dir",
        str(report_dir),
        "-q",
    ]
    # The run must not pick up the caller's target or telemetry settings.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PHASE2_", "OTEL_"))}
    started = time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env, check=False)
    seconds = time.monotonic() - started
    stderr_tail = "\n".join(completed.stderr.strip().splitlines()[-5:])
    summary_file = report_dir / "summary.json"
    if not summary_file.exists():
        return SeedResult(seed, completed.returncode, "no report", 0, 0, 0, 0, 0, seconds, (), (), stderr_tail)
    summary = json.loads(summary_file.read_text())
    counts = summary["counts"]["requirements"]
    failures = tuple(
        sorted(
            requirement_id
            for requirement_id, requirement in summary["requirements"].items()
            if requirement["status"] in ("failed", "error")
        )
    )
    return SeedResult(
        seed=seed,
        exit_code=completed.returncode,
        verdict=str(summary["verdict"]),
        passed=int(counts["passed"]),
        failed=int(counts["failed"]),
        not_applicable=int(counts["not-applicable"]),
        skipped=int(counts["skipped"]),
        requests=int(summary["counts"]["requests"]),
        seconds=seconds,
        failures=failures,
        errors=tuple(str(error) for error in summary["errors"]),
        stderr_tail=stderr_tail,
    )


def run_seeds(seeds: list[int], profile: str, jobs: int, report_root: Path) -> list[SeedResult]:
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda seed: run_seed(seed, profile, report_root), seeds))


def render(results: list[SeedResult], profile: str) -> str:
    lines = [
        f"profile {profile}, {len(results)} seeds",
        "",
        "| seed | verdict | exit | passed | failed | n/a | skipped | requests | seconds | failed requirements |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for result in results:
        lines.append(
            f"| {result.seed:>4} | {result.verdict} | {result.exit_code} | {result.passed} | {result.failed} | "
            f"{result.not_applicable} | {result.skipped} | {result.requests} | {result.seconds:.1f} | "
            f"{', '.join(result.failures) or '—'} |"
        )
    passed = sum(result.ok for result in results)
    lines += ["", f"{passed} of {len(results)} seeds passed"]
    for result in results:
        if not result.ok:
            lines += [f"seed {result.seed}:", *result.errors, result.stderr_tail]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--first", type=int, default=1)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--profile", default="standard")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--report-dir", type=Path, help="keep each seed's reports in DIR/seed-N")
    args = parser.parse_args(argv)
    seeds = list(range(args.first, args.first + args.count))
    report_root = args.report_dir or Path(tempfile.mkdtemp(prefix="phase2-seeds-"))
    try:
        results = run_seeds(seeds, args.profile, args.jobs, report_root)
    finally:
        if args.report_dir is None:
            shutil.rmtree(report_root, ignore_errors=True)
    print(render(results, args.profile))
    return 0 if all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())

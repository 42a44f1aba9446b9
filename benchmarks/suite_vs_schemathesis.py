"""Time per request: the suite's contract tests against Schemathesis' own CLI, side by side.

    python -m benchmarks.suite_vs_schemathesis [--max-examples 20] [--seed 20261126] [--rounds 1]

Both tools run the same phases (examples, coverage, fuzzing, stateful) in positive and negative
mode with the same number of examples per operation, against a fresh reference server each
(loopback, in-memory store), one after the other:

- Schemathesis: `st run openapi/phase2.yaml --checks all --mode all` with the proof configuration
  of benchmarks/schemathesis.toml (dynamic auth through /auth/login);
- the suite: `phase2-conformance run --base-url ... --profile standard --classes contract`, i.e.
  the same Schemathesis phases plus the suite's response checks on every response.

Requests are counted by the server itself (the sum of `phase2_http_requests_total` in its
/metrics), so both tools are measured by one yardstick. Time per request = wall time / requests.
Wall time includes each tool's start-up (imports, schema loading), which favours neither.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.clients import admin
from benchmarks.launch import Reference
from benchmarks.schemathesis_cli import st_run_command


@dataclass
class Measurement:
    tool: str
    seconds: float
    requests: int
    exit_code: int

    @property
    def ms_per_request(self) -> float:
        return 1000 * self.seconds / max(self.requests, 1)


def measure(tool: str, command: list[str], reference: Reference, env: dict[str, str]) -> Measurement:
    started = time.perf_counter()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tempfile.gettempdir())
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        sys.stderr.write(
            f"{tool} exited {completed.returncode}:\n{completed.stdout[-3000:]}\n{completed.stderr[-2000:]}\n"
        )
    return Measurement(tool, seconds, reference.requests_served(), completed.returncode)


def run_schemathesis(max_examples: int, seed: int) -> Measurement:
    reference = Reference()
    try:
        command = st_run_command(reference.base_url, max_examples, seed)
        return measure("schemathesis (st run)", command, reference, dict(os.environ))
    finally:
        reference.stop()


def run_suite(max_examples: int, seed: int, report_dir: Path) -> Measurement:
    reference = Reference()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHASE2_")}
        env.update(admin().suite_env())
        command = [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "-q",
            "--base-url",
            reference.base_url,
            "--profile",
            "standard",
            "--classes",
            "contract",
            "--max-examples",
            str(max_examples),
            "--seed",
            str(seed),
            "--report-dir",
            str(report_dir),
        ]
        return measure("phase2-conformance (contract class)", command, reference, env)
    finally:
        reference.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--rounds", type=int, default=1, help="alternate the two tools this many times")
    args = parser.parse_args()
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_number in range(args.rounds):
            results.append(run_schemathesis(args.max_examples, args.seed))
            results.append(run_suite(args.max_examples, args.seed, Path(tmp) / f"report-{round_number}"))
    print(f"\nmax-examples {args.max_examples}, seed {args.seed}, {args.rounds} round(s)\n")
    print("| tool | wall s | requests | ms/request | exit |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for m in results:
        print(f"| {m.tool} | {m.seconds:.1f} | {m.requests} | {m.ms_per_request:.2f} | {m.exit_code} |")
    st_runs = [m for m in results if m.tool.startswith("schemathesis")]
    suite_runs = [m for m in results if not m.tool.startswith("schemathesis")]
    st_rate = sum(m.seconds for m in st_runs) / max(sum(m.requests for m in st_runs), 1)
    suite_rate = sum(m.seconds for m in suite_runs) / max(sum(m.requests for m in suite_runs), 1)
    print(f"\nsuite ÷ schemathesis time per request: {suite_rate / st_rate:.2f}× (target ≤ 1.25×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

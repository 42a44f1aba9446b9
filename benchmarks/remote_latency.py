"""A deployment far away: the suite and Schemathesis' CLI through a proxy adding 0-100 ms per round trip.

    python -m benchmarks.remote_latency [--delays 0,20,50,100] [--profile standard]
                                        [--suite-workers 1,8] [--st-workers 1,8] [--st-max-examples 20]

For each delay, a fresh reference (in memory) sits behind `delay_proxy.DelayProxy`, and each tool
runs against the proxy's address, one after the other:

- the suite: `phase2-conformance run --base-url PROXY/v2 --profile P` as for any deployment, with
  the reference configured as a vendor would configure theirs so that no requirement is left
  unverified for lack of a capability: it trusts the suite's test issuer (a fixed port), exports
  spans to the suite's OTLP receiver (a fixed port), and names the proxy as its token issuer; once
  for each `--suite-workers` value (a value above 1 is passed as `--workers N`);
- Schemathesis' CLI: `st run --checks all --mode all` with every phase, as the proof runs it
  (`benchmarks.schemathesis_cli.st_run_command`), once for each `--st-workers` value.

Requests are counted by the reference itself; wall time includes each tool's start-up.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from benchmarks.delay_proxy import DelayProxy
from benchmarks.launch import REPO, Reference
from benchmarks.schemathesis_cli import st_run_command

# The reference's test-only clients, one per role the suite uses.
ROLE_PREFIX = {"admin": "PHASE2_", "other-tenant": "PHASE2_OTHER_TENANT_", "read-only": "PHASE2_READ_ONLY_"}


@dataclass
class Row:
    delay_ms: float
    tool: str
    seconds: float
    requests: int
    exit_code: int
    verdict: str

    @property
    def ms_per_request(self) -> float:
        return 1000 * self.seconds / max(self.requests, 1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def suite_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHASE2_", "OTEL_"))}
    clients = yaml.safe_load((REPO / "fixtures" / "clients.yaml").read_text(encoding="utf-8"))["clients"]
    for client in clients:
        prefix = ROLE_PREFIX[client["role"]]
        env[prefix + "CLIENT_ID"] = client["client_id"]
        env[prefix + "CLIENT_SECRET"] = client["client_secret"]
    return env


def verdict_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith("Verdict:")]
    return lines[-1].split("(")[0].removeprefix("Verdict:").strip().lower() if lines else "?"


def run_suite(delay_ms: float, profile: str, workers: int, report_dir: Path) -> Row:
    proxy_port, issuer_port, otlp_port = free_port(), free_port(), free_port()
    issuer = f"http://127.0.0.1:{issuer_port}"
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp_port}"}
    reference = Reference(
        "--issuer",
        f"http://127.0.0.1:{proxy_port}",
        "--trust-issuer",
        f"{issuer}={issuer}/jwks.json",
        env=env,
    )
    try:
        with DelayProxy("127.0.0.1", int(reference.url.rsplit(":", 1)[1]), delay_ms, port=proxy_port):
            command = [
                sys.executable, "-m", "conformance", "run", "-q",
                "--base-url", f"http://127.0.0.1:{proxy_port}/v2",
                "--profile", profile,
                "--test-issuer-trusted", "--test-issuer-port", str(issuer_port),
                "--otlp-receiver-port", str(otlp_port),
                "--report-dir", str(report_dir),
            ]  # fmt: skip
            if workers > 1:
                command += ["--workers", str(workers)]
            started = time.perf_counter()
            completed = subprocess.run(
                command, env=suite_env(), capture_output=True, text=True, cwd=tempfile.gettempdir()
            )
            seconds = time.perf_counter() - started
        tool = "suite, sequential" if workers <= 1 else f"suite, --workers {workers}"
        if completed.returncode != 0:
            sys.stderr.write(f"{tool} exited {completed.returncode}:\n{completed.stdout[-3000:]}")
            sys.stderr.write(completed.stderr[-2000:])
        return Row(
            delay_ms, tool, seconds, reference.requests_served(), completed.returncode, verdict_line(completed.stdout)
        )
    finally:
        reference.stop()


def run_schemathesis(delay_ms: float, workers: int, max_examples: int, seed: int) -> Row:
    reference = Reference()
    try:
        with DelayProxy("127.0.0.1", int(reference.url.rsplit(":", 1)[1]), delay_ms) as proxy:
            proxied = f"http://127.0.0.1:{proxy.port}/v2"
            command = [*st_run_command(proxied, max_examples, seed), "--workers", str(workers)]
            started = time.perf_counter()
            completed = subprocess.run(command, capture_output=True, text=True, cwd=tempfile.gettempdir())
            seconds = time.perf_counter() - started
        verdict = {0: "pass", 1: "failures"}.get(completed.returncode, "error")
        if completed.returncode not in (0, 1):
            sys.stderr.write(f"st run --workers {workers} exited {completed.returncode}:\n{completed.stdout[-2000:]}")
        return Row(
            delay_ms, f"st run --workers {workers}", seconds, reference.requests_served(), completed.returncode, verdict
        )
    finally:
        reference.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delays", default="0,20,50,100", help="round-trip delays in ms, comma separated")
    parser.add_argument("--profile", default="standard")
    parser.add_argument("--suite-workers", default="1,8", help="the suite's --workers values (1 = sequential)")
    parser.add_argument("--st-workers", default="1,8", help="st run --workers values")
    parser.add_argument("--st-max-examples", type=int, default=20, help="as the standard profile")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args()
    delays = [float(d) for d in args.delays.split(",") if d]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        for delay in delays:
            for workers in [int(w) for w in args.suite_workers.split(",") if w]:
                rows.append(run_suite(delay, args.profile, workers, Path(tmp) / f"suite-{delay:g}-{workers}"))
                print(rows[-1], file=sys.stderr, flush=True)
            for workers in [int(w) for w in args.st_workers.split(",") if w]:
                rows.append(run_schemathesis(delay, workers, args.st_max_examples, args.seed))
                print(rows[-1], file=sys.stderr, flush=True)
    print(f"\nprofile {args.profile}, st run --max-examples {args.st_max_examples}, seed {args.seed}\n")
    print("| delay ms | tool | wall s | requests | ms/request | verdict |")
    print("| ---: | --- | ---: | ---: | ---: | --- |")
    for row in rows:
        print(
            f"| {row.delay_ms:g} | {row.tool} | {row.seconds:.1f} | {row.requests:,} | "
            f"{row.ms_per_request:.1f} | {row.verdict} (exit {row.exit_code}) |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

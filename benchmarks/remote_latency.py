"""A deployment far away: the suite and Schemathesis' CLI through a proxy adding 0-100 ms per round trip.

    python -m benchmarks.remote_latency [--delays 0,20,50,100] [--profile standard]
                                        [--suite-workers 1,8] [--st-workers 1,8] [--st-max-examples 20]
                                        [--output FILE.md] [--keep-reports DIR] [--longest 5]

For each delay, a fresh reference (in memory) sits behind `delay_proxy.DelayProxy`, and each tool
runs against the proxy's address, one after the other:

- the suite: `phase2-conformance run --base-url PROXY/v2 --profile P` as for any deployment, with
  the reference configured as a vendor would configure theirs so that no requirement is left
  unverified for lack of a capability: it trusts the suite's test issuer (a fixed port), exports
  spans to the suite's OTLP receiver (a fixed port), and names the proxy as its token issuer; once
  for each `--suite-workers` value (passed as `--workers N`; 1 is the sequential run);
- Schemathesis' CLI: `st run --checks all --mode all` with every phase, as the proof runs it
  (`benchmarks.schemathesis_cli.st_run_command`), once for each `--st-workers` value.

Requests are counted by the reference itself, connections by the proxy (each new one costs a
round trip more than a reused one); wall time includes each tool's start-up, and the suite's own
figure (its summary's duration) is shown beside it. The markdown table goes to stdout and, with
`--output`, to a file, headed by the command, the machine's load average before and after (figures
taken on a busy machine are for relative comparisons only) and, with `--longest N`, followed by the
N longest work items of each suite run, with when each started and how long it waited for exclusive
items (where the wall time of a run goes).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.clients import load_clients
from benchmarks.delay_proxy import DelayProxy
from benchmarks.launch import Reference
from benchmarks.schemathesis_cli import st_run_command

# The reference's test-only clients, one per role the suite uses.


@dataclass
class Row:
    delay_ms: float
    tool: str
    seconds: float
    requests: int
    exit_code: int
    verdict: str
    connections: int = 0
    run_seconds: float | None = None  # the suite's own duration, start-up excluded
    # (seconds, work item, started, waited) of a suite run: when it started, after the run's items
    # began, and how long it waited for exclusive items, show where the wall time went.
    longest: list[tuple[float, str, float | None, float | None]] | None = None

    @property
    def ms_per_request(self) -> float:
        return 1000 * self.seconds / max(self.requests, 1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def suite_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHASE2_", "OTEL_"))}
    for client in load_clients():
        env.update(client.suite_env())
    return env


def verdict_line(output: str) -> str:
    """The verdict's headline: `pass`, `fail`, `pass with 3 MUSTs unverified` (the reasons left out)."""
    lines = [line for line in output.splitlines() if line.startswith("Verdict:")]
    if not lines:
        return "?"
    headline = lines[-1].removeprefix("Verdict:").split(":")[0].split("(")[0].strip()
    first, _, rest = headline.partition(" ")
    return f"{first.lower()} {rest}".strip()


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
        with DelayProxy("127.0.0.1", int(reference.url.rsplit(":", 1)[1]), delay_ms, port=proxy_port) as proxy:
            # `--workers 1` is given too: the proxy is on loopback, where the default is sequential.
            command = [
                sys.executable, "-m", "conformance", "run", "-q",
                "--base-url", f"http://127.0.0.1:{proxy_port}/v2",
                "--profile", profile,
                "--test-issuer-trusted", "--test-issuer-port", str(issuer_port),
                "--otlp-receiver-port", str(otlp_port),
                "--report-dir", str(report_dir),
                "--workers", str(max(workers, 1)),
            ]  # fmt: skip
            started = time.perf_counter()
            completed = subprocess.run(
                command, env=suite_env(), capture_output=True, text=True, cwd=tempfile.gettempdir()
            )
            seconds = time.perf_counter() - started
            connections = proxy.connections
        tool = "suite, sequential" if workers <= 1 else f"suite, `--workers {workers}`"
        if completed.returncode != 0:
            sys.stderr.write(f"{tool} exited {completed.returncode}:\n{completed.stdout[-3000:]}")
            sys.stderr.write(completed.stderr[-2000:])
        summary = _summary(report_dir)
        return Row(
            delay_ms,
            tool,
            seconds,
            reference.requests_served(),
            completed.returncode,
            verdict_line(completed.stdout),
            connections,
            run_seconds=summary.get("duration_seconds"),
            longest=sorted(
                (
                    (test["duration"], test["test_id"], test.get("started"), test.get("waited"))
                    for test in summary.get("tests", [])
                ),
                key=lambda entry: entry[0],
                reverse=True,
            ),
        )
    finally:
        reference.stop()


def _summary(report_dir: Path) -> dict[str, Any]:
    try:
        document = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def run_schemathesis(delay_ms: float, workers: int, max_examples: int, seed: int) -> Row:
    reference = Reference()
    try:
        with DelayProxy("127.0.0.1", int(reference.url.rsplit(":", 1)[1]), delay_ms) as proxy:
            proxied = f"http://127.0.0.1:{proxy.port}/v2"
            command = [*st_run_command(proxied, max_examples, seed), "--workers", str(workers)]
            started = time.perf_counter()
            completed = subprocess.run(command, capture_output=True, text=True, cwd=tempfile.gettempdir())
            seconds = time.perf_counter() - started
            connections = proxy.connections
        verdict = {0: "pass", 1: "failures"}.get(completed.returncode, "error")
        if completed.returncode not in (0, 1):
            sys.stderr.write(f"st run --workers {workers} exited {completed.returncode}:\n{completed.stdout[-2000:]}")
        return Row(
            delay_ms,
            f"`st run --workers {workers}`",
            seconds,
            reference.requests_served(),
            completed.returncode,
            verdict,
            connections,
        )
    finally:
        reference.stop()


def table(rows: list[Row], args: argparse.Namespace, load: tuple[str, str]) -> str:
    """The markdown for the README: the command, the load it ran under, one row per tool and delay."""
    lines = [
        "```sh",
        "python -m benchmarks.remote_latency " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "```",
        "",
        f"Profile `{args.profile}`, `st run --max-examples {args.st_max_examples}`, seed {args.seed}; "
        f"load average (1 min) {load[0]} before, {load[1]} after, on {os.cpu_count()} cores.",
        "",
        "| delay ms | tool | wall s | suite's own s | × sequential | requests | connections | ms/request | verdict |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    sequential = {row.delay_ms: row.seconds for row in rows if row.tool == "suite, sequential"}
    for row in rows:
        own = f"{row.run_seconds:.1f}" if row.run_seconds is not None else ""
        base = sequential.get(row.delay_ms)
        speedup = f"{base / row.seconds:.1f}×" if base and row.tool.startswith("suite") else ""
        lines.append(
            f"| {row.delay_ms:g} | {row.tool} | {row.seconds:.1f} | {own} | {speedup} | {row.requests:,} | "
            f"{row.connections:,} | {row.ms_per_request:.1f} | {row.verdict} (exit {row.exit_code}) |"
        )
    if args.longest > 0:
        for row in rows:
            if row.longest:
                shown = ", ".join(
                    f"{name.split('::')[-1]} {seconds:.1f}s{_when(started, waited)}"
                    for seconds, name, started, waited in row.longest[: args.longest]
                )
                lines.append(f"\n{row.delay_ms:g} ms, {row.tool}: longest items {shown}")
    return "\n".join(lines) + "\n"


def _when(started: float | None, waited: float | None) -> str:
    """When an item started (and how long it waited for exclusive items first), if the run said."""
    if started is None:
        return ""
    return f" (from {started:.1f}s" + (f", after waiting {waited:.1f}s)" if waited else ")")


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delays", default="0,20,50,100", help="round-trip delays in ms, comma separated")
    parser.add_argument("--profile", default="standard")
    parser.add_argument("--suite-workers", default="1,8", help="the suite's --workers values (1 = sequential)")
    parser.add_argument("--st-workers", default="1,8", help="st run --workers values")
    parser.add_argument("--st-max-examples", type=int, default=20, help="as the standard profile")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--output", type=Path, help="also write the markdown table to this file")
    parser.add_argument("--keep-reports", type=Path, help="keep each suite run's report directory under DIR")
    parser.add_argument("--longest", type=int, default=0, help="list the N longest work items of each suite run")
    args = parser.parse_args()
    delays = [float(d) for d in args.delays.split(",") if d]
    rows: list[Row] = []
    load_before = _load()
    with tempfile.TemporaryDirectory() as tmp:
        reports = args.keep_reports if args.keep_reports is not None else Path(tmp)
        for delay in delays:
            for workers in [int(w) for w in args.suite_workers.split(",") if w]:
                rows.append(run_suite(delay, args.profile, workers, reports / f"suite-{delay:g}ms-{workers}w"))
                print(rows[-1].tool, f"{delay:g} ms", f"{rows[-1].seconds:.1f}s", file=sys.stderr, flush=True)
            for workers in [int(w) for w in args.st_workers.split(",") if w]:
                rows.append(run_schemathesis(delay, workers, args.st_max_examples, args.seed))
                print(rows[-1].tool, f"{delay:g} ms", f"{rows[-1].seconds:.1f}s", file=sys.stderr, flush=True)
    markdown = table(rows, args, (load_before, _load()))
    print(markdown)
    if args.output is not None:
        args.output.write_text(markdown, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Throughput and p99 latency: the reference server against Stoplight Prism's mock, side by side.

    python -m benchmarks.reference_vs_prism [--duration 10] [--connections 32] [--threads 2]

Both servers get the same load from the same tool (wrk, with Lua scripts for the Authorization
header and unique world names) on loopback:

- the reference: `python -m phase2_reference serve` (uvicorn, uvloop, httptools) with a file-backed
  SQLite store in a temporary directory, real RS256 tokens checked on every request, and an event
  written with every created world; default log level (info), its JSON log lines sent to /dev/null;
- Prism: `prism mock openapi/phase2.yaml` (it validates each request and answers the contract's
  examples; it stores nothing), its log lines sent to /dev/null.

Prism is taken from PRISM (an executable), else /tmp/npmcheck/node_modules/.bin/prism, else
`.tools/node_modules/.bin/prism`, installed there with `npm install @stoplight/prism-cli` on first
use. wrk comes from the OS (`apt-get install -y wrk`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from benchmarks.clients import admin
from benchmarks.launch import Reference
from conformance.contract.files import spec_path

REPO = Path(__file__).resolve().parent.parent
CONTRACT = spec_path()
PRISM_CANDIDATES = [
    Path("/tmp/npmcheck/node_modules/.bin/prism"),
    REPO / ".tools" / "node_modules" / ".bin" / "prism",
]

# wrk's done() hook prints one JSON line we parse; `setup` numbers the threads so names stay unique.
REPORT = """
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "seconds": %f, "p50_us": %d, "p99_us": %d, "errors": %d, '
    .. '"non_2xx": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"""
GET_SCRIPT = """
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer {token}"
"""
# `prefix` is a global: setup() sets it in each thread's own Lua state.
POST_SCRIPT = """
local threads = 0
local counter = 0
setup = function(thread)
  threads = threads + 1
  thread:set("prefix", "{run}-" .. threads)
end
request = function()
  counter = counter + 1
  local name = prefix .. "-" .. counter
  local body = '{{"name":"' .. name .. '","description":"benchmark","labels":{{"team":"bench"}}}}'
  return wrk.format("POST", nil, nil, body)
end
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "application/json"
"""


@dataclass
class Result:
    server: str
    scenario: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    failures: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError as exc:
            if getattr(exc, "code", None) is not None:
                return  # an HTTP error still means the server answers
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not come up")


def request_json(method: str, url: str, body: dict[str, object], token: str | None = None) -> dict[str, object]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        document: dict[str, object] = json.loads(response.read())
        return document


def find_prism() -> Path:
    explicit = os.environ.get("PRISM")
    if explicit:
        return Path(explicit)
    for candidate in PRISM_CANDIDATES:
        if candidate.exists():
            return candidate
    tools = REPO / ".tools"
    tools.mkdir(exist_ok=True)
    subprocess.run(["npm", "install", "--prefix", str(tools), "@stoplight/prism-cli"], check=True)
    return PRISM_CANDIDATES[-1]


def run_wrk(url: str, script: str, args: argparse.Namespace, workdir: Path, label: str) -> dict[str, float]:
    script_path = workdir / f"{label}.lua"
    script_path.write_text(script)
    command = [
        "wrk",
        "-t",
        str(args.threads),
        "-c",
        str(args.connections),
        "-d",
        f"{args.duration}s",
        "--latency",
        "-s",
        str(script_path),
        url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("{"))
    report: dict[str, float] = json.loads(line)
    return report


def measure(server: str, base: str, token: str, world_id: str, args: argparse.Namespace, workdir: Path) -> list[Result]:
    results = []

    def script(scenario: str) -> str:
        if scenario.startswith("GET"):
            return GET_SCRIPT.format(token=token) + REPORT
        # A fresh prefix per wrk run keeps every name unique, warm-up included.
        return POST_SCRIPT.format(token=token, run=f"bench-{server}-{time.monotonic_ns()}") + REPORT

    scenarios = {"GET /v2/worlds/{id}": f"{base}/worlds/{world_id}", "POST /v2/worlds": f"{base}/worlds"}
    for scenario, url in scenarios.items():
        warm_up = argparse.Namespace(**{**vars(args), "duration": 2})
        run_wrk(url, script(scenario), warm_up, workdir, f"{server}-warm")
        report = run_wrk(url, script(scenario), args, workdir, f"{server}-{scenario.split()[0]}")
        results.append(
            Result(
                server=server,
                scenario=scenario,
                requests_per_second=report["requests"] / report["seconds"],
                p50_ms=report["p50_us"] / 1000,
                p99_ms=report["p99_us"] / 1000,
                failures=int(report["errors"] + report["non_2xx"]),
            )
        )
    return results


def bench_reference(args: argparse.Namespace, workdir: Path) -> list[Result]:
    data_dir = workdir / "reference-data"
    # The server's own defaults (log level info, token lifetime): what a deployment would run.
    with Reference(data_dir=data_dir, token_ttl=None, log_level=None) as reference:
        base = reference.base_url
        tokens = request_json("POST", f"{base}/auth/login", admin().login_body())
        token = str(tokens["access_token"])
        world = request_json("POST", f"{base}/worlds", {"name": "bench-target"}, token)
        return measure("reference", base, token, str(world["id"]), args, workdir)


def bench_prism(args: argparse.Namespace, workdir: Path) -> list[Result]:
    port = free_port()
    process = subprocess.Popen(
        [str(find_prism()), "mock", str(CONTRACT), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"  # Prism mocks the paths without the servers' /v2 prefix
        wait_until_up(f"{base}/healthz")
        # Prism checks only that a bearer token is present; it has no token endpoint of its own.
        return measure(
            "prism",
            base,
            "prism-accepts-any-bearer-token",
            "3f0c9a52-6a4e-4f3e-9a57-1d6e2b0c8f11",
            args,
            workdir,
        )
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def table(results: list[Result], args: argparse.Namespace) -> str:
    lines = [
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s on loopback, {os.cpu_count()} cores",
        "",
        "| scenario | server | requests/s | p50 ms | p99 ms | failed | reference ÷ prism |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    by_key = {(r.scenario, r.server): r for r in results}
    for scenario in dict.fromkeys(r.scenario for r in results):
        reference, prism = by_key[(scenario, "reference")], by_key[(scenario, "prism")]
        for result in (reference, prism):
            ratio = f"{reference.requests_per_second / prism.requests_per_second:.1f}×" if result is reference else ""
            lines.append(
                f"| `{scenario}` | {result.server} | {result.requests_per_second:,.0f} | "
                f"{result.p50_ms:.2f} | {result.p99_ms:.2f} | {result.failures} | {ratio} |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="phase2-bench-") as directory:
        workdir = Path(directory)
        results = bench_reference(args, workdir) + bench_prism(args, workdir)
    print(table(results, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

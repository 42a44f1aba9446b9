"""What the benchmarks share: a reference server on a free loopback port, and the `st run` command."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parent.parent
CONTRACT = REPO / "openapi" / "phase2.yaml"
# The proof configuration: dynamic auth through /auth/login and the contract's expected statuses.
ST_CONFIG = REPO / "tests" / "phase2_reference" / "schemathesis.toml"


class Reference:
    """`python -m phase2_reference serve` on a free port, in memory, until `stop`."""

    def __init__(self, *extra: str) -> None:
        command = [sys.executable, "-m", "phase2_reference", "serve", "--port", "0", "--in-memory"]
        command += ["--token-ttl", "3600", "--log-level", "warning", *extra]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.process.stdout is not None
        announcement = json.loads(self.process.stdout.readline())
        self.url = announcement["url"]
        self.base_url = announcement["base_url"]

    def requests_served(self) -> int:
        """Requests the server answered, from its own counter (the scrape itself excluded)."""
        with urllib.request.urlopen(self.base_url + "/metrics", timeout=10) as response:
            text = response.read().decode()
        total = 0.0
        for family in text_string_to_metric_families(text):
            if family.name == "phase2_http_requests":
                total += sum(
                    sample.value
                    for sample in family.samples
                    if sample.name.endswith("_total") and sample.labels.get("route") != "/metrics"
                )
        return int(total)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def st_run_command(base_url: str, max_examples: int, seed: int) -> list[str]:
    """Schemathesis' CLI with all checks, both modes and every phase, as the proof runs it."""
    st = str(Path(sys.executable).with_name("st"))
    return [
        st, "--config-file", str(ST_CONFIG), "run", str(CONTRACT), "--url", base_url,
        "--checks", "all", "--mode", "all", "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(max_examples), "--seed", str(seed), "--request-timeout", "15", "--no-color",
    ]  # fmt: skip

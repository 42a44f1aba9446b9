"""What the benchmarks share: a reference server on a free loopback port, and the `st run` command."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import IO

from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parent.parent
CONTRACT = REPO / "openapi" / "phase2.yaml"
# The proof configuration: dynamic auth through /auth/login and the contract's expected statuses.
ST_CONFIG = REPO / "tests" / "phase2_reference" / "schemathesis.toml"


class Reference:
    """`python -m phase2_reference serve` on a free port until `stop` (or `kill`).

    In memory unless `data_dir` is given (then a file-backed SQLite store there, which a second
    `Reference` on the same directory reopens); its stderr (JSON logs) goes to `log_file` if given.
    """

    def __init__(
        self,
        *extra: str,
        data_dir: Path | None = None,
        log_file: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        storage = ["--in-memory"] if data_dir is None else ["--data-dir", str(data_dir)]
        command = [sys.executable, "-m", "phase2_reference", "serve", "--port", "0", *storage]
        command += ["--token-ttl", "3600", "--log-level", "warning", *extra]
        stderr: IO[bytes] | int = subprocess.DEVNULL if log_file is None else log_file.open("ab")
        try:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env)
        finally:
            if not isinstance(stderr, int):
                stderr.close()  # the child holds its own copy
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

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, the store is left as the last COMMIT wrote it."""
        self.process.send_signal(signal.SIGKILL)
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

"""The reference server as its own process on a free loopback port: the one launcher of the benchmarks and tests.

    with Reference("--flags", "world-preview", data_dir=tmp_path) as reference:
        httpx.get(reference.base_url + "/healthz")

The suite has its own launcher (`conformance.client.reference.ReferenceProcess`) for `--reference`
runs; it owns its data directory (a fresh one, removed at stop) and always switches the test
controls on. The proofs need what it deliberately does not offer: a store a second process reopens
after a SIGKILL, a reference started plainly (no test controls), and the server's own request
counter. Tests that need the reference in-process (an ASGI app or a uvicorn thread) use
`phase2_reference.testing.launcher` instead; apart from the tests of the reference's own command line
(tests/phase2_reference/test_cli.py), none starts a reference process of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Self

from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parent.parent  # the checkout: `python -m phase2_reference` runs from it
START_TIMEOUT = 60.0  # generous: a saturated 2-core machine can take many seconds to import the server
STOP_TIMEOUT = 10.0


class ReferenceDidNotStart(RuntimeError):
    """The child exited, or printed no listening line within START_TIMEOUT."""


def reference_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the suite's and OpenTelemetry's variables, plus `extra`.

    A `PHASE2_*` or `OTEL_*` variable of the caller (a developer's shell, CI) must not configure a
    reference whose configuration the proof sets itself."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHASE2_", "OTEL_"))}
    env.update(extra or {})
    return env


class Reference:
    """`python -m phase2_reference serve` on a free loopback port, until `stop` (or `kill`).

    In memory unless `data_dir` is given (then a file-backed SQLite store there, which a second
    `Reference` on the same directory reopens); its stderr (JSON logs) goes to `log_file` if given.
    `token_ttl` and `log_level` are the benchmarks' defaults; None leaves the server's own.
    """

    def __init__(
        self,
        *extra: str,
        data_dir: Path | None = None,
        log_file: Path | None = None,
        env: Mapping[str, str] | None = None,
        token_ttl: int | None = 3600,
        log_level: str | None = "warning",
    ) -> None:
        storage = ["--in-memory"] if data_dir is None else ["--data-dir", str(data_dir)]
        command = [sys.executable, "-m", "phase2_reference", "serve", "--host", "127.0.0.1", "--port", "0", *storage]
        if token_ttl is not None:
            command += ["--token-ttl", str(token_ttl)]
        if log_level is not None:
            command += ["--log-level", log_level]
        command += extra
        stderr: IO[bytes] | int = subprocess.DEVNULL if log_file is None else log_file.open("ab")
        try:
            self.process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                text=True,
                env=reference_env() if env is None else dict(env),
            )
        finally:
            if not isinstance(stderr, int):
                stderr.close()  # the child holds its own copy
        line = self._first_line()
        try:
            announcement = json.loads(line)
            self.url: str = announcement["url"]
            self.base_url: str = announcement["base_url"]
        except (ValueError, KeyError, TypeError):
            self.stop()
            raise ReferenceDidNotStart(f"the reference printed {line.strip()[:200]!r}, not its address") from None
        assert self.process.stdout is not None
        # Keep draining stdout so a chatty server can never block on a full pipe.
        threading.Thread(target=_drain, args=(self.process.stdout,), daemon=True).start()

    def _first_line(self) -> str:
        stdout = self.process.stdout
        assert stdout is not None
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        if not lines or not lines[0]:
            code = self.process.poll()
            self.stop()
            if code is not None:
                raise ReferenceDidNotStart(f"the reference exited with code {code} before listening")
            raise ReferenceDidNotStart(f"the reference printed no address within {START_TIMEOUT:g} s")
        return lines[0]

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
        """SIGTERM and wait (the server shuts down gracefully); SIGKILL if it does not end in time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close()

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, the store is left as the last COMMIT wrote it."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(STOP_TIMEOUT)
        self._close()

    def _close(self) -> None:
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _drain(stream: IO[str]) -> None:
    # Ends at EOF, or when `stop` closes the pipe under it.
    with contextlib.suppress(ValueError, OSError):
        for _ in stream:
            pass

"""The embedded reference server, run as a child process on a free loopback port.

The suite never imports the reference package: it starts `python -m phase2_reference serve
--port 0` and reads the bound address from the first line the server prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Self

from conformance.errors import ConfigError, TargetUnreachable

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
RUNTIME_STEP_MS = 20


class ReferenceProcess:
    def __init__(
        self,
        *,
        flags: Sequence[str] = (),
        faults: Sequence[str] = (),
        trust_issuer: str | None = None,
        otlp_endpoint: str | None = None,
        test_controls: bool = True,
        log_path: Path | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self._flags = tuple(flags)
        self._faults = tuple(faults)
        self._trust_issuer = trust_issuer
        self._otlp_endpoint = otlp_endpoint
        self._test_controls = test_controls
        self._log_path = log_path
        self._extra_args = tuple(extra_args)
        self._process: subprocess.Popen[str] | None = None
        self._data_dir: str | None = None
        self._log: IO[str] | None = None
        self.url = ""
        self.base_url = ""

    def command(self, data_dir: str) -> list[str]:
        command = [sys.executable, "-m", "phase2_reference", "serve", "--host", "127.0.0.1", "--port", "0"]
        command += ["--data-dir", data_dir]
        if self._flags:
            command += ["--flags", ",".join(self._flags)]
        for fault in self._faults:
            command += ["--fault", fault]
        if self._trust_issuer:
            command += ["--trust-issuer", self._trust_issuer]
        if self._test_controls:
            command.append("--test-controls")
        # Runtimes of the embedded reference move quickly: scenarios wait on every transition.
        command += ["--runtime-step-ms", str(RUNTIME_STEP_MS)]
        return command + list(self._extra_args)

    def _environment(self) -> Mapping[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PHASE2_", "OTEL_"))}
        env["PHASE2_LOG_LEVEL"] = "warning"
        if self._otlp_endpoint:
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = self._otlp_endpoint
        return env

    def start(self) -> Self:
        self._data_dir = tempfile.mkdtemp(prefix="phase2-reference-")
        log_target: IO[str] | int = subprocess.DEVNULL
        if self._log_path is not None:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self._log_path.open("w", encoding="utf-8")
            log_target = self._log
        try:
            self._process = subprocess.Popen(
                self.command(self._data_dir),
                stdout=subprocess.PIPE,
                stderr=log_target,
                stdin=subprocess.DEVNULL,
                text=True,
                env=dict(self._environment()),
            )
        except OSError as exc:
            raise TargetUnreachable(f"cannot start the reference server: {exc.strerror}") from None
        line = self._first_line()
        try:
            announcement = json.loads(line)
            self.url = announcement["url"]
            self.base_url = announcement["base_url"]
        except (ValueError, KeyError, TypeError):
            self.stop()
            raise TargetUnreachable(f"the reference server did not start: {line.strip()[:200]!r}") from None
        assert self._process.stdout is not None
        # Keep draining stdout so a chatty server can never block on a full pipe.
        threading.Thread(target=_drain, args=(self._process.stdout,), daemon=True).start()
        return self

    def _first_line(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self._process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(START_TIMEOUT)
        if not result or not result[0]:
            code = self._process.poll()
            if result:
                # Its stdout closed: the process is exiting. Wait for its code rather than race it.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    code = self._process.wait(STOP_TIMEOUT)
            self.stop()
            if code == 2:
                why = self._refusal() or "it refused its arguments (see reference.log in the report)"
                raise ConfigError(f"the embedded reference did not start: {why}")
            if code is not None:
                raise TargetUnreachable(
                    f"the reference server exited with code {code} (see reference.log in the report)"
                )
            raise TargetUnreachable(f"the reference server did not start within {START_TIMEOUT:g}s")
        return result[0]

    def _refusal(self) -> str | None:
        """The reference's own one-line reason for refusing its arguments, from its log."""
        if self._log_path is None:
            return None
        try:
            with self._log_path.open("rb") as log:
                tail = log.read(64 * 1024).decode("utf-8", "replace")
        except OSError:
            return None
        prefix = "phase2_reference: error: "
        lines = [line for line in tail.splitlines() if line.startswith(prefix)]
        return " ".join(lines[-1][len(prefix) :].split())[:4000] if lines else None

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stdout is not None:
            process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _drain(stream: IO[str]) -> None:
    # Ends at EOF, or when `stop` closes the pipe under it.
    with contextlib.suppress(ValueError, OSError):
        for _ in stream:
            pass

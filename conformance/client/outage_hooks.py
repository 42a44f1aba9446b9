"""Taking a component of the deployment away and bringing it back, for the outage checks.

Two ways, one interface (`Outage`):

- `CommandOutage`: the user's shell commands (`--outage-start CMD` / `--outage-end CMD`), e.g.
  `docker stop db` / `docker start db`. Each runs with a time-out, its output captured (and
  masked before it reaches a report); the environment it gets holds no `PHASE2_*` variable, so
  no credential of the run is passed, only `PHASE2_BASE_URL` (the target) so one command can
  serve several deployments.
- `ControlOutage`: the embedded reference's test control `POST /_reference/store`.

A command that fails, times out or cannot start raises `OutageFailed`; the check then cannot
be verified (an error of the run), never passed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Protocol

import httpx

COMMAND_TIMEOUT = 60.0  # seconds one outage command may take
OUTPUT_EXCERPT = 500  # characters of a failed command's output kept for the report


class OutageFailed(Exception):
    """Taking the component away, or bringing it back, did not work."""


class Outage(Protocol):
    @property
    def description(self) -> str:
        """How the outage is made, for reasons and messages."""

    @property
    def component(self) -> str | None:
        """The readiness component it takes away, when known."""

    def start(self, timeout: float) -> None: ...

    def end(self, timeout: float) -> None: ...


@dataclass(frozen=True)
class CommandOutage:
    start_command: str
    end_command: str
    base_url: str
    description: str = "the --outage-start/--outage-end commands"
    component: str | None = None  # the user's command may take any component away

    def start(self, timeout: float) -> None:
        self._run("--outage-start", self.start_command, timeout)

    def end(self, timeout: float) -> None:
        self._run("--outage-end", self.end_command, timeout)

    def _run(self, which: str, command: str, timeout: float) -> None:
        limit = max(1.0, min(timeout, COMMAND_TIMEOUT))
        # Output goes to a file, of which only the tail is read: a chatty command costs no memory.
        with tempfile.TemporaryFile() as output:
            try:
                process = subprocess.Popen(
                    command,
                    shell=True,  # the user's own command line, as they would type it
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=command_environment(os.environ, self.base_url),
                    start_new_session=True,  # its own process group: a time-out ends every child it started
                )
            except OSError as exc:
                raise OutageFailed(f"{which} command could not start: {exc.strerror or exc}: {command}") from None
            try:
                code = process.wait(timeout=limit)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise OutageFailed(f"{which} command did not finish within {limit:g}s: {command}") from None
            if code == 0:
                return
            output.seek(max(0, output.seek(0, os.SEEK_END) - OUTPUT_EXCERPT * 4))
            excerpt = " ".join(output.read().decode("utf-8", errors="replace").split())[-OUTPUT_EXCERPT:]
        raise OutageFailed(
            f"{which} command exited with code {code}: {command}" + (f" (output: {excerpt})" if excerpt else "")
        )


def command_environment(environ: os._Environ[str] | dict[str, str], base_url: str) -> dict[str, str]:
    """The caller's environment without any of the run's settings (secrets among them), plus the target."""
    env = {name: value for name, value in environ.items() if not name.startswith("PHASE2_")}
    env["PHASE2_BASE_URL"] = base_url
    return env


@dataclass(frozen=True)
class ControlOutage:
    client: httpx.Client
    controls_url: str
    description: str = "the embedded reference's test controls"
    component: str | None = "data_store"

    def start(self, timeout: float) -> None:
        self._set_store(available=False)

    def end(self, timeout: float) -> None:
        self._set_store(available=True)

    def _set_store(self, *, available: bool) -> None:
        answer = self.client.post(self.controls_url + "/store", json={"available": available})
        if answer.status_code not in (200, 204):
            raise OutageFailed(
                f"the test control refused to set the data store available={available}: {answer.status_code}"
            )

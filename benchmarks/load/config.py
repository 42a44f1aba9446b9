"""What a load run is asked to do: clients, duration, a kill, the seed, faults to serve with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LoadConfig:
    clients: int = 50
    duration: float = 60.0
    kill_after: float | None = None
    seed: int = 1
    runtime_step_ms: int = 50
    request_timeout: float = 30.0
    data_dir: Path | None = None  # None: a temporary directory
    log_file: Path | None = None  # the server's stderr (JSON logs); None: discarded
    faults: tuple[str, ...] = ()  # reference faults to serve with, proving the checks can fail

"""A reference server started plainly, as a vendor's deployment would be: no test issuer trusted,
no span export, no test controls."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest


@dataclass(frozen=True)
class PlainTarget:
    base_url: str
    # The primary client of fixtures/clients.yaml, passed as a vendor passes its own.
    env: dict[str, str] = field(
        default_factory=lambda: {
            "PHASE2_CLIENT_ID": "tenant-a-admin",
            "PHASE2_CLIENT_SECRET": "test-only-secret-tenant-a-admin-7f3c",
        }
    )


@pytest.fixture
def plain_reference() -> Iterator[PlainTarget]:
    """`phase2_reference serve --in-memory` with nothing else switched on."""
    yield from _serve()


@pytest.fixture
def reference_with_controls() -> Iterator[PlainTarget]:
    """A plain reference whose test controls exist, but the suite is not told: only a vendor's
    outage commands (which call them) can take its data store away."""
    yield from _serve("--test-controls")


def _serve(*extra: str) -> Iterator[PlainTarget]:
    command = [
        sys.executable,
        "-m",
        "phase2_reference",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--in-memory",
        *extra,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    try:
        announcement = json.loads(process.stdout.readline())
        yield PlainTarget(str(announcement["base_url"]))
    finally:
        process.terminate()
        process.wait(15)
        process.stdout.close()

"""A reference server started plainly, as a vendor's deployment would be: no test issuer trusted,
no span export, no test controls."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from benchmarks.clients import admin
from benchmarks.launch import Reference


@dataclass(frozen=True)
class PlainTarget:
    base_url: str
    # The primary client of fixtures/clients.yaml, passed as a vendor passes its own.
    env: dict[str, str] = field(default_factory=lambda: admin().suite_env())


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
    # The server's own defaults for token lifetime and log level: nothing tuned for the suite.
    with Reference(*extra, token_ttl=None, log_level=None) as reference:
        yield PlainTarget(reference.base_url)

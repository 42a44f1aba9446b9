"""Malformed requests never fail the reference and never change it: CI-sized runs of `benchmarks.fuzz`.

The full run sends 10,000 over HTTP; here about a thousand go in-process through httpx.ASGITransport
(fast, every operation of the contract, every kind of defect), and a few hundred over real HTTP with
every raw-bytes case no HTTP client would send.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from benchmarks import fuzz


def test_a_thousand_malformed_requests_in_process(tmp_path: Path) -> None:
    outcome = asyncio.run(fuzz.run(1000, seed=21, transport="asgi", data_dir=tmp_path))
    assert outcome.ok, outcome.render()
    assert outcome.count == 1000
    assert len(outcome.by_operation) == len(fuzz.load_operations())
    assert len(outcome.by_defect) >= 30
    assert outcome.before == outcome.after
    assert all(400 <= status < 500 for status in outcome.statuses)


def test_malformed_requests_and_raw_bytes_over_http(tmp_path: Path) -> None:
    raw_kinds = len(fuzz.raw_requests(fuzz.Fixtures("t", "t", "w", '"1"', "r", "c", "c")))
    outcome = asyncio.run(fuzz.run(300, seed=22, transport="http", data_dir=tmp_path, raw_count=raw_kinds))
    assert outcome.ok, outcome.render()
    assert outcome.by_operation["(raw)"] == raw_kinds

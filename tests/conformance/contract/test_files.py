"""Where the contract and fixtures live: the checkout's folders, else the copies a wheel carries."""

from __future__ import annotations

import hashlib
from pathlib import Path

from conformance.contract import files

ROOT = Path(__file__).resolve().parents[3]


def test_a_checkout_reads_its_own_contract_and_fixtures() -> None:
    assert files.spec_path() == ROOT / "openapi" / "phase2.yaml"
    assert files.catalog_path() == ROOT / "openapi" / "requirements.yaml"
    assert files.fixtures_dir() == ROOT / "fixtures"
    assert files.spec_path().is_file() and files.catalog_path().is_file()


def test_the_first_existing_place_wins_and_the_first_is_named_when_none_exists(tmp_path: Path) -> None:
    missing, present = tmp_path / "checkout", tmp_path / "wheel"
    present.mkdir()
    assert files._first_existing(missing, present) == present
    assert files._first_existing(missing, tmp_path / "also-missing") == missing


def test_a_file_s_digest_is_its_sha256(tmp_path: Path) -> None:
    path = tmp_path / "contract.yaml"
    path.write_bytes(b"openapi: 3.1.0\n")
    assert files.sha256_of(path) == hashlib.sha256(b"openapi: 3.1.0\n").hexdigest()

"""Where the contract and fixture files live: a source checkout or an installed wheel."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return candidates[0]


def contract_dir() -> Path:
    """`openapi/` of the checkout, or the copy the wheel carries."""
    return _first_existing(_PACKAGE_DIR.parent / "openapi", _PACKAGE_DIR / "_contract_files")


def fixtures_dir() -> Path:
    return _first_existing(_PACKAGE_DIR.parent / "fixtures", _PACKAGE_DIR / "_fixture_files")


def spec_path() -> Path:
    return contract_dir() / "phase2.yaml"


def catalog_path() -> Path:
    return contract_dir() / "requirements.yaml"


@cache
def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()

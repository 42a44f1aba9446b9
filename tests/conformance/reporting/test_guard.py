"""The last gate: every file of the report dir passes the redactor before it is hashed and shipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.client.secrets import Redactor
from conformance.reporting import guard

SECRET = "a-secret-learnt-late-in-the-run"


def test_files_with_a_secret_are_rewritten_masked_and_others_left_alone(tmp_path: Path) -> None:
    (tmp_path / "allure-results").mkdir()
    leaking = tmp_path / "allure-results" / "attachment.txt"
    leaking.write_text(f"Authorization: Bearer {SECRET}\n")
    clean = tmp_path / "summary.md"
    clean.write_text("nothing to hide\n")
    before = clean.stat().st_mtime_ns
    changed = guard.scrub_directory(tmp_path, Redactor([SECRET]))
    assert changed == [leaking]
    assert SECRET not in leaking.read_text()
    assert clean.stat().st_mtime_ns == before and clean.read_text() == "nothing to hide\n"
    assert not list(tmp_path.rglob("*.partial"))


def test_bytes_that_are_not_utf8_survive_a_scrub(tmp_path: Path) -> None:
    binary = tmp_path / "trace.bin"
    binary.write_bytes(b"\xff\xfe" + SECRET.encode() + b"\x80")
    guard.scrub_directory(tmp_path, Redactor([SECRET]))
    data = binary.read_bytes()
    assert data.startswith(b"\xff\xfe") and data.endswith(b"\x80") and SECRET.encode() not in data


def test_skipped_names_and_symlinks_are_not_touched(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text(SECRET)
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "link.txt").symlink_to(outside)
    (reports / "manifest.json").write_text(SECRET)
    assert guard.scrub_directory(reports, Redactor([SECRET]), skip=frozenset({"manifest.json"})) == []
    assert outside.read_text() == SECRET


def test_a_file_too_large_to_check_is_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard, "MAX_SCRUBBED_BYTES", 16)
    huge = tmp_path / "huge.log"
    huge.write_text("x" * 17)
    assert guard.scrub_directory(tmp_path, Redactor([SECRET])) == [huge]
    assert not huge.exists()

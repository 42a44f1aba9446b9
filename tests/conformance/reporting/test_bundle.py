"""manifest.json and `phase2-conformance bundle` / `bundle --verify`, through the CLI."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.contract.files import spec_path
from conformance.results import RunResult
from tests.conftest import SuiteRun


def rewrite(archive: Path, output: Path, change: dict[str, bytes | None]) -> None:
    """Copy an archive, replacing (bytes) or dropping (None) members by their path below the top folder."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(output, "w:gz") as target:
        for member in source.getmembers():
            name = member.name.split("/", 1)[1] if "/" in member.name else member.name
            if name in change:
                data = change[name]
                if data is None:
                    continue
                member.size = len(data)
                target.addfile(member, io.BytesIO(data))
            else:
                target.addfile(member, source.extractfile(member) if member.isfile() else None)


def test_manifest_lists_every_file_with_its_sha256(failing_reports: Path, failing_result: RunResult) -> None:
    manifest = json.loads((failing_reports / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["suite_version"] == failing_result.suite_version
    assert (
        manifest["contract_sha256"]
        == failing_result.contract_sha256
        == hashlib.sha256(spec_path().read_bytes()).hexdigest()
    )
    assert manifest["catalog_version"] == 1
    assert manifest["profile"] == "quick"
    assert manifest["seed"] == failing_result.seed
    assert manifest["classes"] == list(failing_result.classes)
    assert manifest["feature_flags"] == []
    assert manifest["started_at"] == "2026-01-15T10:00:00Z"
    on_disk = {
        p.relative_to(failing_reports).as_posix()
        for p in failing_reports.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert set(manifest["files"]) == on_disk
    assert {
        "summary.json",
        "junit.xml",
        "summary.md",
        "report.html",
        "allure-results/environment.properties",
    } <= on_disk
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == hashlib.sha256((failing_reports / name).read_bytes()).hexdigest()


def test_bundle_and_verify(tmp_path: Path, failing_reports: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "out" / "bundle.tar.gz"
    assert main(["bundle", str(failing_reports), "-o", str(archive)]) == 0
    assert capsys.readouterr().out.strip() == str(archive)
    with tarfile.open(archive) as opened:
        names = opened.getnames()
        top = names[0].split("/")[0]
        assert all(name.startswith(top + "/") for name in names)
        for expected in (
            "SHA256SUMS",
            "report/manifest.json",
            "report/summary.json",
            "report/junit.xml",
            "contract/phase2.yaml",
            "contract/requirements.yaml",
        ):
            assert f"{top}/{expected}" in names
        sums = opened.extractfile(f"{top}/SHA256SUMS")
        assert sums is not None
        lines = sums.read().decode().splitlines()
    assert len(lines) == len([n for n in names if not n.endswith("SHA256SUMS")])
    assert f"{hashlib.sha256(spec_path().read_bytes()).hexdigest()}  contract/phase2.yaml" in lines
    assert main(["bundle", "--verify", str(archive)]) == 0
    assert "OK" in capsys.readouterr().out


def test_verify_catches_tampering(tmp_path: Path, failing_reports: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "bundle.tar.gz"
    assert main(["bundle", str(failing_reports), "-o", str(archive)]) == 0
    capsys.readouterr()
    cases: dict[str, dict[str, bytes | None]] = {
        "changed": {"report/summary.json": b'{"verdict": "pass"}'},
        "missing": {"report/junit.xml": None},
        "contract": {"contract/phase2.yaml": b"openapi: 3.1.0\n"},
    }
    for name, change in cases.items():
        tampered = tmp_path / f"{name}.tar.gz"
        rewrite(archive, tampered, change)
        assert main(["bundle", "--verify", str(tampered)]) == 1, name
        err = capsys.readouterr().err
        assert "verification FAILED" in err
    assert "checksum mismatch: contract/phase2.yaml" in err
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not an archive")
    assert main(["bundle", "--verify", str(garbage)]) == 1
    assert "not a readable tar.gz archive" in capsys.readouterr().err


def test_bundle_refuses_what_is_not_a_report_or_changed(
    tmp_path: Path, failing_reports: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bundle", str(tmp_path / "nothing")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["bundle", "--verify", str(tmp_path / "absent.tar.gz")]) == 2
    assert "absent.tar.gz: no such file" in capsys.readouterr().err
    (failing_reports / "summary.md").write_text("edited after the run\n", encoding="utf-8")
    assert main(["bundle", str(failing_reports), "-o", str(tmp_path / "b.tar.gz")]) == 2
    assert "changed since the run wrote its manifest: summary.md" in capsys.readouterr().err


def test_bundle_with_another_contract_is_refused(
    tmp_path: Path, failing_reports: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other-contract"
    other.mkdir()
    (other / "phase2.yaml").write_text("openapi: 3.1.0\n", encoding="utf-8")
    (other / "requirements.yaml").write_text("requirements: []\n", encoding="utf-8")
    code = main(["bundle", str(failing_reports), "--contract-dir", str(other), "-o", str(tmp_path / "b.tar.gz")])
    assert code == 2
    assert "is not the one the run used" in capsys.readouterr().err


def test_real_run_bundles_and_verifies(
    tmp_path: Path, reference_run: SuiteRun, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "real.tar.gz"
    assert main(["bundle", str(reference_run.report_dir), "-o", str(archive)]) == 0
    assert main(["bundle", "--verify", str(archive)]) == 0
    manifest = json.loads((reference_run.report_dir / "manifest.json").read_text())
    assert "allure-results/categories.json" in manifest["files"]
    assert any(name.endswith("-result.json") for name in manifest["files"])

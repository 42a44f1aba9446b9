"""The manifest: what the run was, and the digest and size of every report file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from conformance.reporting import ReportContext
from conformance.reporting.manifest import FILENAME, ManifestReporter, report_files, sha256_file
from tests.conformance.reporting.builders import failing_run


def test_every_report_file_is_listed_with_its_digest_and_size(tmp_path: Path) -> None:
    (tmp_path / "allure-results").mkdir()
    (tmp_path / "allure-results" / "a.json").write_text("{}")
    (tmp_path / "summary.json").write_text('{"verdict": "fail"}')
    (tmp_path / ".junit.xml.partial").write_text("half written")
    result = failing_run()
    path = ManifestReporter().write(result, ReportContext(tmp_path))
    assert path == tmp_path / FILENAME
    document = json.loads(path.read_text())
    assert set(document["files"]) == {"allure-results/a.json", "summary.json"}
    assert document["files"]["summary.json"] == {
        "sha256": hashlib.sha256(b'{"verdict": "fail"}').hexdigest(),
        "bytes": len('{"verdict": "fail"}'),
    }
    assert (document["run_id"], document["verdict"], document["exit_code"]) == (
        result.run_id,
        result.verdict.value,
        result.exit_code,
    )
    assert document["manifest_version"] == 1


def test_the_manifest_and_symlinks_are_not_listed(tmp_path: Path) -> None:
    (tmp_path / FILENAME).write_text("{}")
    (tmp_path / "real.txt").write_text("x")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    assert report_files(tmp_path) == [Path("real.txt")]


def test_a_large_file_is_hashed_whole(tmp_path: Path) -> None:
    data = bytes(range(256)) * 1024  # several reads of the chunked digest
    (tmp_path / "big.bin").write_bytes(data)
    assert sha256_file(tmp_path / "big.bin") == hashlib.sha256(data).hexdigest()

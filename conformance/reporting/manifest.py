"""`manifest.json`: what ran, against what, and a SHA-256 of every file the run left in its report dir.

Written last, so it covers every other report. `phase2-conformance bundle` packs the directory
with the contract and catalog; `bundle --verify` checks the files against these hashes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from conformance.reporting import ReportContext, write_atomically
from conformance.results import RunResult

FILENAME = "manifest.json"
MANIFEST_VERSION = 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def report_files(directory: Path) -> list[Path]:
    """Every regular file under the report dir, by relative path, the manifest itself excluded."""
    return sorted(
        p.relative_to(directory)
        for p in directory.rglob("*")
        if p.is_file() and not p.is_symlink() and p.name != FILENAME and not p.name.endswith(".partial")
    )


def manifest_document(result: RunResult, directory: Path) -> dict[str, Any]:
    return {
        "manifest_version": MANIFEST_VERSION,
        "run_id": result.run_id,
        "suite_version": result.suite_version,
        "contract_sha256": result.contract_sha256,
        "catalog_version": result.catalog_version,
        "target": {"base_url": result.target, "reference": result.reference},
        "profile": result.profile,
        "seed": result.seed,
        "feature_flags": list(result.feature_flags),
        "classes": list(result.classes),
        "fail_on": result.fail_on,
        "verdict": result.verdict.value,
        "exit_code": result.exit_code,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "files": {
            path.as_posix(): {
                "sha256": sha256_file(directory / path),
                "bytes": (directory / path).stat().st_size,
            }
            for path in report_files(directory)
        },
    }


class ManifestReporter:
    name = "manifest"

    def write(self, result: RunResult, context: ReportContext) -> Path:
        document = manifest_document(result, context.directory)
        return write_atomically(context.directory / FILENAME, json.dumps(document, indent=2) + "\n")

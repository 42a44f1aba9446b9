"""Shards of one run: each writes `shard.json`, and `phase2-conformance merge` makes one run of them.

`shard.json` holds a shard's raw verdicts (the recorder's export), its tests, its waivers and what
identifies the run (seed, profile, contract hash, target, selection, waivers, shard I/N). The merge
absorbs every shard's verdicts into one recorder and hands it, with the run's waivers, to
`build_result`, the one place a verdict is decided, so a merged run is judged exactly as an
unsharded one; every report (Allure's too) is written from the merged result. Shards of different runs are
refused (exit 2); a missing shard is a run error, so the merged verdict is never a pass.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from conformance.client import bounded
from conformance.client.reproduction import BODIES_DIR
from conformance.client.secrets import Redactor
from conformance.contract import load_catalog, load_contract
from conformance.errors import ConfigError
from conformance.recorder import Recorder
from conformance.results import RateLimitCounts, RunResult, TestOutcome, Waiver
from conformance.runner.outcome import RunFacts, build_result
from conformance.runner.session import RunSession
from conformance.settings import Settings, load_settings

BLOB = "shard.json"
WAIVER_FIELDS = ("requirement_id", "operation", "reason", "owner", "expires")
FORMAT = 2
MAX_BLOB_BYTES = 64 * 1024 * 1024
# What must be equal in every shard of one run.
IDENTITY = ("seed", "profile", "contract_sha256", "target", "selection", "waivers", "total")


def _target(settings: Settings) -> str:
    """The run's target: the reference (its port differs per shard) with its faults and flags, or the URL."""
    if settings.reference:
        return "embedded reference" + "".join(f" --reference-fault {f}" for f in sorted(settings.reference_faults))
    return str(settings.base_url)


def shard_document(session: RunSession, result: RunResult) -> dict[str, Any]:
    settings = session.settings
    assert settings.shard is not None
    return {
        "format": FORMAT,
        "index": settings.shard.index,
        "total": settings.shard.total,
        "seed": settings.seed,
        "profile": settings.profile.name,
        "contract_sha256": result.contract_sha256,
        "target": _target(settings),
        "base_url": settings.base_url,
        "reference": settings.reference,
        "selection": {
            "classes": sorted(settings.classes),
            "requirements": sorted(settings.requirement_filter),
            "operations": sorted(settings.operation_filter),
            "feature_flags": sorted(settings.feature_flags),
            "reference_faults": sorted(settings.reference_faults),
            "fail_on": settings.fail_on.value.lower(),
            "require_all": settings.require_all,
        },
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "target_lost": session.target_lost,
        "interrupted_by": session.interrupted_by,
        "rate_limits": asdict(result.rate_limits),
        "tests": [asdict(test) for test in session.tests],
        # The run's waivers as they were loaded (validated against the catalog): the merge applies them.
        "waivers": [asdict(waiver) for waiver in session.waivers],
        "recorder": session.recorder.export(),
    }


def write_shard(session: RunSession, result: RunResult) -> Path | None:
    """A shard's raw verdicts beside its reports (nothing for an unsharded run)."""
    if session.settings.shard is None:
        return None
    from conformance.reporting import write_atomically

    document = shard_document(session, result)
    text = session.redactor.text(json.dumps(document, indent=1, default=str))
    return write_atomically(session.settings.report_dir / BLOB, text)


def _load(directory: Path) -> dict[str, Any]:
    path = directory / BLOB
    try:
        # A regular file within bounds only: a FIFO or /dev/zero named as a shard must not hang the merge.
        data = bounded.read_file(path, MAX_BLOB_BYTES)
    except OSError as exc:
        raise ConfigError(f"merge: {path} cannot be read ({exc.strerror}): not a shard's report directory") from None
    except bounded.LimitExceeded as exc:
        raise ConfigError(f"merge: {exc}") from None
    try:
        document = bounded.loads(data, max_bytes=MAX_BLOB_BYTES)
    except (ValueError, RecursionError):
        raise ConfigError(f"merge: {path} is not JSON") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ConfigError(f"merge: {path} is not a shard of this suite's format {FORMAT}")
    for key in (*IDENTITY, "index", "recorder", "tests"):
        if key not in document:
            raise ConfigError(f"merge: {path} lacks {key!r}")
    return document


def _refuse_mixed(documents: list[tuple[Path, dict[str, Any]]]) -> None:
    first_path, first = documents[0]
    for path, document in documents[1:]:
        for key in IDENTITY:
            if document[key] != first[key]:
                raise ConfigError(
                    f"merge: {path} and {first_path} are shards of different runs: their {key} differ "
                    f"({document[key]!r} and {first[key]!r})"
                )
    seen: dict[int, Path] = {}
    for path, document in documents:
        index = document["index"]
        if not isinstance(index, int) or not 1 <= index <= int(first["total"]):
            raise ConfigError(f"merge: {path} names shard {index!r} of {first['total']}")
        if index in seen:
            raise ConfigError(f"merge: {path} and {seen[index]} are both shard {index}/{first['total']}")
        seen[index] = path


def _settings(document: dict[str, Any], output: Path) -> Settings:
    selection = document["selection"]
    values: dict[str, Any] = {
        "reference": True,  # no credentials needed to judge; the target is restored below
        "report_dir": str(output),
        "profile": document["profile"],
        "seed": document["seed"],
        "classes": selection["classes"],
        "requirements": selection["requirements"],
        "operations": selection["operations"],
        "feature_flags": ",".join(selection["feature_flags"]),
        "reference_faults": selection["reference_faults"],
        "fail_on": selection["fail_on"],
        "require_all": selection["require_all"],
    }
    settings = load_settings(values, env={})
    return replace(settings, reference=bool(document["reference"]), base_url=document.get("base_url"))


def _waiver(entry: Any) -> Waiver:
    """A waiver as a shard wrote it; raises TypeError when it is not one."""
    values = {key: entry[key] for key in WAIVER_FIELDS}
    if not all(isinstance(value, str) for key, value in values.items() if key != "operation") or not isinstance(
        values["operation"], str | None
    ):
        raise TypeError("a waiver's fields are not text")
    return Waiver(**values)


def merge(directories: list[Path], output: Path) -> RunResult:
    """One run of the shards in `directories`, its reports written to `output`."""
    from conformance.reporting import write_reports

    if not directories:
        raise ConfigError("merge: give the shards' report directories")
    documents = [(directory, _load(directory)) for directory in directories]
    _refuse_mixed(documents)
    first = documents[0][1]
    contract, catalog = load_contract(), load_catalog()
    if first["contract_sha256"] != contract.sha256:
        raise ConfigError("merge: the shards tested another contract than this suite's (contract_sha256 differs)")
    settings = _settings(first, output)
    recorder = Recorder(catalog, Redactor(settings.secrets()))
    tests: list[TestOutcome] = []
    limits = RateLimitCounts()
    try:
        waivers = tuple(_waiver(entry) for entry in first["waivers"])
        for waiver in waivers:
            catalog.get(waiver.requirement_id)
        for _, document in documents:
            recorder.absorb(document["recorder"])
            tests.extend(
                TestOutcome(**{**test, "requirements": tuple(test.get("requirements", ()))})
                for test in document["tests"]
            )
            counts = document.get("rate_limits") or {}
            limits = RateLimitCounts(
                limits.answers + int(counts.get("answers", 0)),
                limits.retries + int(counts.get("retries", 0)),
                limits.given_up + int(counts.get("given_up", 0)),
                round(limits.waited_seconds + float(counts.get("waited_seconds", 0.0)), 3),
            )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(f"merge: a shard's verdicts or waivers are malformed: {type(exc).__name__}: {exc}") from None
    # An item every shard collects without running it (the stateful one of a profile without that
    # phase) is one test of the run; an item that ran in one shard wins over its skips elsewhere.
    by_id: dict[str, TestOutcome] = {}
    for test in tests:
        if test.test_id not in by_id or by_id[test.test_id].outcome == "skipped":
            by_id[test.test_id] = test
    tests = list(by_id.values())
    present = {document["index"] for _, document in documents}
    total = int(first["total"])
    for index in range(1, total + 1):
        if index not in present:
            recorder.error(f"shard {index}/{total} is missing from the merge: its part of the run is unverified")
    facts = RunFacts(
        started_at=min(datetime.fromisoformat(str(d["started_at"])) for _, d in documents),
        finished_at=max(datetime.fromisoformat(str(d["finished_at"])) for _, d in documents),
        tests=tuple(tests),
        target_lost=any(bool(d.get("target_lost")) for _, d in documents),
        interrupted_by=next((d["interrupted_by"] for _, d in documents if d.get("interrupted_by") is not None), None),
        rate_limits=limits,
    )
    result = build_result(settings, contract, catalog, recorder, facts, waivers)
    output.mkdir(parents=True, exist_ok=True)
    for directory, _ in documents:
        # Folded request bodies (named by failure id), so the merged run's replays find them too.
        _copy_files(directory / BODIES_DIR, output / BODIES_DIR)
    return write_reports(result, settings)


def _copy_files(source: Path, target: Path) -> None:
    """A shard's folded bodies are named by failure id: the union is the merged run's."""
    if not source.is_dir():
        return
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.is_file() and not path.is_symlink():
            shutil.copyfile(path, target / path.name)

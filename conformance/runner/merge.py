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
import re
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from conformance import local_files
from conformance.client.reproduction import BODIES_DIR
from conformance.client.secrets import Redactor
from conformance.contract import load_catalog, load_contract
from conformance.contract.catalog import RequirementCatalog
from conformance.errors import ConfigError
from conformance.local_files import MAX_BODY_FILE_BYTES, SHARD
from conformance.recorder import Recorder
from conformance.results import RateLimitCounts, RunResult, TestOutcome, Waiver
from conformance.runner.outcome import RunFacts, build_result
from conformance.runner.session import RunSession
from conformance.settings import Settings, load_settings
from conformance.shards import MAX_SHARDS

BLOB = "shard.json"
FORMAT = 2  # shard.schema.json's `format`
# Bounds on what the shards of one merge may hold together, so its time and memory are bounded
# whatever the count: their shard.json files (a real one is well under 1 MB), and the folded bodies
# copied (one shard's bodies/ holds a few files of a few KB).
MAX_MERGED_SHARD_BYTES = 512 * 1024 * 1024
MAX_BODY_FILES = 10_000
MAX_MERGED_BODY_BYTES = 1024 * 1024 * 1024
_BODY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}")
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


def _load(directory: Path) -> tuple[Path, dict[str, Any], int]:
    """A shard's document and its size: read through the one door for local files (inside its
    directory, no link followed, a regular file under its cap), validated against `shard.schema.json`."""
    path = directory / BLOB
    raw = local_files.read_inside(directory, BLOB, SHARD.max_bytes, "merge:")
    document: dict[str, Any] = local_files.load_json(raw, SHARD, f"merge: {path}")
    return path, document, len(raw)


def _refuse_mixed(first: tuple[Path, dict[str, Any]], other: tuple[Path, dict[str, Any]]) -> None:
    (first_path, first_document), (path, document) = first, other
    for key in IDENTITY:
        if document[key] != first_document[key]:
            shown_values = f"({local_files.shown(document[key])} and {local_files.shown(first_document[key])})"
            raise ConfigError(
                f"merge: {path} and {first_path} are shards of different runs: their {key} differ {shown_values}"
            )


def _unknown_requirement(document: dict[str, Any], catalog: RequirementCatalog) -> tuple[tuple[Any, ...], str] | None:
    """Where a shard names a requirement this suite's catalog does not have (the schema checks the spelling only)."""
    recorder = document["recorder"]
    named: list[tuple[tuple[Any, ...], str]] = [
        *(
            (("recorder", part, rid), rid)
            for part in ("evaluations", "not_applicable", "blocked")
            for rid in recorder[part]
        ),
        *(
            (("recorder", "failures", i, "requirement_id"), f["requirement_id"])
            for i, f in enumerate(recorder["failures"])
        ),
        *((("recorder", "judged_by_item", i, 1), item[1]) for i, item in enumerate(recorder["judged_by_item"])),
        *((("waivers", i, "requirement_id"), w["requirement_id"]) for i, w in enumerate(document["waivers"])),
        *((("selection", "requirements", i), rid) for i, rid in enumerate(document["selection"]["requirements"])),
        *(
            (("tests", i, "requirements", j), rid)
            for i, test in enumerate(document["tests"])
            for j, rid in enumerate(test["requirements"])
        ),
    ]
    return next(((at, rid) for at, rid in named if rid not in catalog), None)


def _instant(path: Path, document: dict[str, Any], key: str) -> datetime:
    try:
        return datetime.fromisoformat(document[key])
    except ValueError as error:  # the schema's date-time allows a leap second Python cannot hold
        raise local_files.refuse(f"merge: {path}", (key,), str(error)) from None


@dataclass(frozen=True)
class _ShardFacts:
    """What the merge keeps of a shard once its verdicts are absorbed (the document is let go)."""

    path: Path
    index: int
    started_at: datetime
    finished_at: datetime
    target_lost: bool
    interrupted_by: int | None


def _settings(document: dict[str, Any], output: Path, path: Path) -> Settings:
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
    try:
        settings = load_settings(values, env={})
    except ConfigError as error:
        raise ConfigError(f"merge: {path}: the shard's run cannot be rebuilt here: {error}") from None
    return replace(settings, reference=bool(document["reference"]), base_url=document.get("base_url"))


def _fields(cls: type, document: dict[str, Any]) -> dict[str, Any]:
    """The fields of `cls` in a document that may hold more (a newer suite's): those are ignored."""
    return {item.name: document[item.name] for item in fields(cls) if item.name in document}


def merge(directories: list[Path], output: Path) -> RunResult:
    """One run of the shards in `directories`, its reports written to `output`.

    Every shard is hostile (CI artifacts): validated whole before any field is used, its verdicts
    absorbed and its document let go before the next is read, so memory holds one shard at a time;
    their folded bodies are copied only as regular files of their own `bodies/` (no link followed)."""
    from conformance.reporting import write_reports

    if not directories:
        raise ConfigError("merge: give the shards' report directories")
    if len(directories) > MAX_SHARDS:
        raise ConfigError(f"merge: {len(directories)} directories given; a run has at most {MAX_SHARDS} shards")
    contract, catalog = load_contract(), load_catalog()
    first: tuple[Path, dict[str, Any]] | None = None
    recorder: Recorder | None = None
    settings: Settings | None = None
    waivers: tuple[Waiver, ...] = ()
    tests: list[TestOutcome] = []
    limits = RateLimitCounts()
    shards: dict[int, _ShardFacts] = {}
    read = 0
    for directory in directories:
        path, document, size = _load(directory)
        read += size
        if read > MAX_MERGED_SHARD_BYTES:
            raise ConfigError(f"merge: the shards are over {MAX_MERGED_SHARD_BYTES} bytes together (at {path})")
        unknown = _unknown_requirement(document, catalog)
        if unknown is not None:
            at, requirement_id = unknown
            problem = f"{local_files.shown(requirement_id)} is not a requirement of this suite's catalog"
            raise local_files.refuse(f"merge: {path}", at, problem)
        if first is None:
            if document["contract_sha256"] != contract.sha256:
                raise ConfigError(
                    "merge: the shards tested another contract than this suite's (contract_sha256 differs)"
                )
            first = (path, {key: document[key] for key in IDENTITY})
            settings = _settings(document, output, path)
            recorder = Recorder(catalog, Redactor(settings.secrets()))
            waivers = tuple(Waiver(**_fields(Waiver, entry)) for entry in document["waivers"])
        else:
            _refuse_mixed(first, (path, document))
        assert recorder is not None
        index, total = document["index"], first[1]["total"]
        if index > total:
            raise ConfigError(f"merge: {path} names shard {index} of {total}")
        if index in shards:
            raise ConfigError(f"merge: {path} and {shards[index].path} are both shard {index}/{total}")
        shard = _ShardFacts(
            path,
            index,
            _instant(path, document, "started_at"),
            _instant(path, document, "finished_at"),
            document["target_lost"],
            document["interrupted_by"],
        )
        if shard.finished_at < shard.started_at:
            raise local_files.refuse(f"merge: {path}", ("finished_at",), "is before started_at")
        shards[index] = shard
        recorder.absorb(document["recorder"])
        tests.extend(
            TestOutcome(**{**_fields(TestOutcome, test), "requirements": tuple(test["requirements"])})
            for test in document["tests"]
        )
        counts = document["rate_limits"]
        limits = RateLimitCounts(
            limits.answers + counts["answers"],
            limits.retries + counts["retries"],
            limits.given_up + counts["given_up"],
            round(limits.waited_seconds + counts["waited_seconds"], 3),
        )
    assert first is not None and recorder is not None and settings is not None
    # An item every shard collects without running it (the stateful one of a profile without that
    # phase) is one test of the run; an item that ran in one shard wins over its skips elsewhere.
    by_id: dict[str, TestOutcome] = {}
    for test in tests:
        if test.test_id not in by_id or by_id[test.test_id].outcome == "skipped":
            by_id[test.test_id] = test
    total = first[1]["total"]
    for index in range(1, total + 1):
        if index not in shards:
            recorder.error(f"shard {index}/{total} is missing from the merge: its part of the run is unverified")
    facts = RunFacts(
        started_at=min(shard.started_at for shard in shards.values()),
        finished_at=max(shard.finished_at for shard in shards.values()),
        tests=tuple(by_id.values()),
        target_lost=any(shard.target_lost for shard in shards.values()),
        interrupted_by=next((s.interrupted_by for s in shards.values() if s.interrupted_by is not None), None),
        rate_limits=limits,
    )
    result = build_result(settings, contract, catalog, recorder, facts, waivers)
    output.mkdir(parents=True, exist_ok=True)
    copied = 0
    for directory in directories:
        # Folded request bodies (named by failure id), so the merged run's replays find them too.
        copied += _copy_bodies(directory, output / BODIES_DIR, MAX_MERGED_BODY_BYTES - copied)
    return write_reports(result, settings)


def _copy_bodies(directory: Path, target: Path, room: int) -> int:
    """A shard's folded bodies, named by failure id: the union is the merged run's. Only regular files
    directly in the shard's own `bodies/` (a link, a FIFO or a device is refused); the bytes copied."""
    copied = 0
    for body in local_files.files_inside(
        directory, BODIES_DIR, max_files=MAX_BODY_FILES, max_bytes_each=MAX_BODY_FILE_BYTES, max_total=room
    ):
        if not _BODY_NAME.fullmatch(body.name):
            raise local_files.InputError(
                f"merge: {directory / BODIES_DIR}: {local_files.shown(body.name)} is not the name of a folded body"
            )
        target.mkdir(parents=True, exist_ok=True)
        (target / body.name).write_bytes(body.data)
        copied += len(body.data)
    return copied

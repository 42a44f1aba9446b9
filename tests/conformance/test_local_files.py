"""The one door for local files: links, special files and sizes refused, JSON bounded, every field typed.

The last tests are generated from real documents and the published schemas: every field of a
summary.json, a shard.json, a manifest, a waivers file and a config file is given a value of the
wrong type, and the door must refuse each naming that very field, not a hand list of three.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conformance import local_files
from conformance.client.secrets import Redactor
from conformance.contract import load_catalog, load_contract
from conformance.local_files import (
    KINDS,
    MANIFEST,
    SHARD,
    SUMMARY,
    WAIVERS,
    InputError,
    files_inside,
    history_summaries,
    load_json,
    parse_json,
    pointer,
    read_inside,
    read_named,
)
from conformance.recorder import Recorder
from conformance.reporting import ReportContext, write_reports
from conformance.reporting.summary import summary_document
from conformance.runner.merge import FORMAT
from tests.conformance.reporting.builders import failing_run, observed

# --- opening -------------------------------------------------------------------------------------


def test_a_regular_file_inside_its_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "bodies").mkdir()
    (tmp_path / "bodies" / "a.json").write_bytes(b"{}")
    assert read_inside(tmp_path, "bodies/a.json", 10) == b"{}"


@pytest.mark.parametrize("relative", ["../secret", "/etc/passwd", "bodies/../../secret", "."])
def test_a_path_that_leaves_its_directory_is_refused(tmp_path: Path, relative: str) -> None:
    with pytest.raises(InputError, match="is not a path inside its directory"):
        read_inside(tmp_path, relative, 10)


def test_no_link_is_followed_below_the_directory(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("private")
    report = tmp_path / "report"
    report.mkdir()
    (report / "summary.json").symlink_to(outside / "secret")
    (report / "bodies").symlink_to(outside)
    (report / "inside.json").symlink_to(report / "bodies")  # even a link that stays inside
    for relative in ("summary.json", "bodies/secret", "inside.json"):
        with pytest.raises(InputError, match="is a symbolic link; links are not followed"):
            read_inside(report, relative, 100)


def test_special_files_are_refused_without_being_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")  # opening it for reading would block until a writer came
    (tmp_path / "dir").mkdir()
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "sock"))
        with pytest.raises(InputError, match="sock: is a socket, not a regular file"):
            read_named(tmp_path / "sock", 10)
    with pytest.raises(InputError, match="fifo: is a FIFO, not a regular file"):
        read_inside(tmp_path, "fifo", 10)
    with pytest.raises(InputError, match="dir: is a directory, not a regular file"):
        read_inside(tmp_path, "dir", 10)
    (tmp_path / "zero").symlink_to("/dev/zero")
    with pytest.raises(InputError, match="zero: is a device, not a regular file"):
        read_named(tmp_path / "zero", 10)  # a path the user typed is followed, and still refused


def test_sizes_are_checked_before_reading(tmp_path: Path) -> None:
    with (tmp_path / "huge.json").open("wb") as stream:
        stream.truncate(1_200_000_000)  # a hole: 1.2 GB that would be read whole
    started = time.process_time()
    with pytest.raises(InputError, match=r"huge\.json: is 1200000000 bytes, over the limit of 64"):
        read_named(tmp_path / "huge.json", 64)
    assert time.process_time() - started < 5


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"waivers file .*nowhere\.yaml: no such file"):
        read_named(tmp_path / "nowhere.yaml", 10, "waivers file")


def test_the_files_of_a_folder_are_regular_files_only(tmp_path: Path) -> None:
    assert list(files_inside(tmp_path, "bodies", max_files=10, max_bytes_each=10, max_total=100)) == []
    (tmp_path / "bodies").mkdir()
    (tmp_path / "bodies" / "b-1.json").write_text("{}")
    found = files_inside(tmp_path, "bodies", max_files=10, max_bytes_each=10, max_total=100)
    assert [(entry.name, entry.data) for entry in found] == [("b-1.json", b"{}")]
    (tmp_path / "bodies" / "b-2.json").symlink_to(tmp_path / "bodies" / "b-1.json")
    with pytest.raises(InputError, match=r"b-2\.json: is a symbolic link"):
        list(files_inside(tmp_path, "bodies", max_files=10, max_bytes_each=10, max_total=100))
    (tmp_path / "bodies" / "b-2.json").unlink()
    with pytest.raises(InputError, match="holds more than 0 files"):
        list(files_inside(tmp_path, "bodies", max_files=0, max_bytes_each=10, max_total=100))
    (tmp_path / "bodies" / "b-3.json").write_text("{}")
    with pytest.raises(InputError, match="over the limit of 3 bytes together"):
        list(files_inside(tmp_path, "bodies", max_files=10, max_bytes_each=10, max_total=3))


# --- JSON ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON number"),
        (b'{"a": 1e999}', "is out of range for a number"),
        (b'{"a": "\\ud800"}', "lone UTF-16 surrogate"),
        (b'{"a": "\\udc00\\ud800"}', "lone UTF-16 surrogate"),
        (b"[" * 40 + b"]" * 40, "nested deeper than 32 levels"),
        (b"[" + b"0," * 4_000_000 + b"0]", "holds more than 4000000 JSON values"),
        (b"\xff\xfe", "is not JSON"),
    ],
)
def test_json_is_parsed_under_bounds(raw: bytes, problem: str) -> None:
    with pytest.raises(InputError, match=f"summary.json: .*{problem}"):
        parse_json(raw, SUMMARY, "summary.json")


def test_strings_do_not_count_and_paired_surrogates_are_text() -> None:
    assert parse_json(b'{"a": "[[[[[[,,,,:::"}', SUMMARY, "x") == {"a": "[[[[[[,,,,:::"}
    assert parse_json(b'"\\ud83d\\ude00"', SUMMARY, "x") == "\U0001f600"


def test_crafted_quotes_are_measured_in_linear_time() -> None:
    # A string that never closes, of escaped quotes: a backtracking pattern tried it from every quote.
    crafted = b"[]" * 300 + b'"' + b'\\"' * (8 * 1024 * 1024)
    started = time.process_time()
    with pytest.raises(InputError, match="is not JSON"):
        parse_json(crafted, SUMMARY, "x")
    assert time.process_time() - started < 20


def test_a_pointer_names_the_field_escaped_and_cut() -> None:
    assert pointer(["requirements", "P2-CON-001", "failures", 0]) == "/requirements/P2-CON-001/failures/0"
    assert pointer(["a/b", "c~d"]) == "/a~1b/c~0d"
    assert pointer([]) == "(top level)"
    assert len(pointer(["x" * 10_000])) < 200


def test_every_published_schema_is_valid_draft_2020_12() -> None:
    for kind in KINDS:
        assert kind.schema_path is not None
        jsonschema.Draft202012Validator.check_schema(json.loads(kind.schema_path.read_text()))


# --- the history dir -----------------------------------------------------------------------------


def test_the_history_holds_only_summaries_and_only_the_newest_are_read(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    document = summary_document(failing_run())
    for number in range(local_files.HISTORY_NEWEST + 3):
        (runs / f"run-{number:03d}.json").write_text(json.dumps({**document, "run_id": f"run-{number:03d}"}))
    (runs / "run-000.json").write_text("not read: older than the trend reaches")
    (runs / "zz").mkdir()
    (runs / "zz" / "summary.json").write_text(json.dumps({**document, "run_id": "zz"}))
    (runs / "README").write_text("not a run")
    read = [summary["run_id"] for summary in history_summaries(tmp_path)]
    assert len(read) == local_files.HISTORY_NEWEST and read[-1] == "zz"
    (runs / "zz" / "summary.json").write_text(json.dumps({**document, "verdict": "maybe"}))
    with pytest.raises(InputError, match=r"history file .*zz/summary\.json: /verdict: "):
        list(history_summaries(tmp_path))


# --- every field of every file, given the wrong type ------------------------------------------

# Maps keyed by data (ids, labels, header names): one entry of each stands for all.
MAPS = frozenset({"requirements", "operations", "request_headers", "response_headers", "files", "tests"})
MAPS |= {"evaluations", "requests", "not_applicable", "blocked"}


def wrong(value: Any) -> Any:
    """A value of another JSON type than `value`'s, for every type."""
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, str):
        return 12345
    if isinstance(value, int | float):
        return "12345"
    if isinstance(value, list):
        return {"a": 1}
    if isinstance(value, dict):
        return ["a"]
    return {"a": 1}  # null: no nullable field of these files holds an object


def fields(document: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every field's path, one per shape: list items and map entries are represented by their first."""
    if isinstance(document, dict):
        keyed_by_data = bool(path) and (path[-1] in MAPS or (len(path) > 1 and path[-2] == "evaluations"))
        for key in list(document)[:1] if keyed_by_data else document:
            yield (*path, key)
            yield from fields(document[key], (*path, key))
    elif isinstance(document, list) and document:
        yield (*path, 0)
        yield from fields(document[0], (*path, 0))


def at(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    copied = json.loads(json.dumps(document))
    node = copied
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copied


WAIVER = {
    "requirement_id": "P2-HLT-001",
    "operation": "GET /healthz",
    "reason": "r",
    "owner": "o",
    "expires": "2030-01-01",
}
WAIVER_ENTRY = {
    "requirement": "P2-PRO-004",
    "operation": "getEngineInfo",
    "reason": "p",
    "owner": "t",
    "expires": "2030-01-01",
}


def _real_documents(tmp_path: Path) -> dict[str, tuple[Any, Any]]:
    """A document of each kind as the suite writes it (with failures, steps and exchanges)."""
    result = failing_run()
    report = tmp_path / "report"
    write_reports(result, context=ReportContext(report))
    recorder = Recorder(load_catalog(), Redactor())
    recorder.passed("P2-HLT-001", "GET /healthz")
    recorder.failed("P2-PRO-004", "no id", "detail", check="check_x", observed=observed("GET /engine"))
    shard = {
        "format": FORMAT,
        "index": 1,
        "total": 2,
        "seed": 1,
        "profile": "quick",
        "contract_sha256": load_contract().sha256,
        "target": "http://127.0.0.1:9/v2",
        "base_url": "http://127.0.0.1:9/v2",
        "reference": False,
        "selection": {
            "classes": ["health"],
            "requirements": ["P2-HLT-001"],
            "operations": ["getHealth"],
            "feature_flags": ["engine-v2"],
            "reference_faults": ["no-etag-on-get"],
            "fail_on": "must",
            "require_all": False,
        },
        "started_at": "2026-01-15T10:00:00Z",
        "finished_at": "2026-01-15T10:01:00.5Z",
        "target_lost": False,
        "interrupted_by": 15,
        "rate_limits": {"answers": 1, "retries": 1, "given_up": 0, "waited_seconds": 0.5},
        "tests": [json.loads(json.dumps(summary_document(result)["tests"][0]))],
        "waivers": [WAIVER],
        "recorder": recorder.export(),
    }
    waivers = {"waivers": [WAIVER_ENTRY]}
    return {
        "summary.json": (SUMMARY, json.loads((report / "summary.json").read_text())),
        "shard.json": (SHARD, shard),
        "manifest.json": (MANIFEST, json.loads((report / "manifest.json").read_text())),
        "waivers file": (WAIVERS, waivers),
    }


@pytest.mark.parametrize("name", ["summary.json", "shard.json", "manifest.json", "waivers file"])
def test_every_field_of_the_wrong_type_is_refused_naming_it(tmp_path: Path, name: str) -> None:
    kind, document = _real_documents(tmp_path)[name]
    load_json(json.dumps(document).encode(), kind, name)  # the document as written is accepted
    missed, checked = [], 0
    for path in fields(document):
        checked += 1
        mutated = json.dumps(at(document, path, wrong(_value(document, path)))).encode()
        try:
            load_json(mutated, kind, name)
        except InputError as error:
            if f"{name}: {pointer(path)}: " not in str(error):
                missed.append(f"{pointer(path)} refused as {error}")
            continue
        missed.append(f"{pointer(path)} accepted {wrong(_value(document, path))!r}")
    assert not missed, f"{len(missed)} of {checked} fields:\n" + "\n".join(missed)
    assert checked > 5


def _value(document: Any, path: tuple[str | int, ...]) -> Any:
    for key in path:
        document = document[key]
    return document

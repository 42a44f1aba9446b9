"""Every file the suite reads is hostile: the table of reading commands × classes of malformed input.

Report and shard dirs, bundles, waivers, history and config files come from other machines (CI
artifacts, a vendor's bundle, a fork's pull request). Each reading command (`merge`, `replay`,
`diff`, `bundle --verify`, `run --rerun-failed`, `--waivers`, `--config`, `--history-dir`) is given
each class of malformed input: wrong types, values out of range, files over their size, links out
of their directory, special files (a FIFO, /dev/zero), too many values; and the attacks the issue
names on top (a body file linked out of the report dir, a shard claiming 10⁹ shards, dates that
are not dates, mixed time zones, `Infinity`, CR/LF in a method or header name, unknown requirement
ids). Every cell must end in exit 2 with one line on stderr naming the file (and, for content, the
field), no traceback, within a CPU bound, under 1 GiB peak RSS. `bundle --verify` answers a
tampered archive's content with `verification FAILED` (exit 1), its verdict on what it was given;
a file it cannot read is exit 2 like the others.

The documents attacked are real: one quick sharded run against the embedded reference with a
fault writes the summary.json, shard.json and manifest.json every cell starts from. The cells of
one command run in one process (`input_driver.py`), so the table costs a handful of processes.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _clean_env

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
MAX_RSS_MB = 1024  # the bound on peak memory
MAX_CPU_SECONDS = 30.0  # per cell, on the driver's own CPU clock: generous, yet far below a hang or a loop
BATCH_TIMEOUT = 600.0  # a whole command's cells; only a hang (a FIFO read) comes near it
HUGE = 1_200_000_000  # the 1.2 GB summary: a sparse file, no disk used
CLASSES = ("types", "ranges", "sizes", "links", "special files", "counts")


@dataclass(frozen=True)
class RealRun:
    """One real shard's report dir, and what the cells need of it."""

    report_dir: Path
    summary: dict[str, Any]
    shard: dict[str, Any]
    failure_id: str
    failure_path: tuple[str, ...]  # where that failure is in summary.json


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> RealRun:
    base = tmp_path_factory.mktemp("real-run")
    report = base / "report"
    command = [sys.executable, "-m", "conformance", "run", "-q", "--reference", "--profile", "quick"]
    command += ["--classes", "semantic", "--reference-fault", "ignore-if-match"]
    command += ["--shard", "2/2", "--report-dir", str(report), "--time-budget", "3600"]
    completed = subprocess.run(command, cwd=base, env=_clean_env(None), capture_output=True, text=True, timeout=600)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    summary = json.loads((report / "summary.json").read_text())
    found = [
        (("requirements", rid, "failures", str(index)), failure)
        for rid, requirement in summary["requirements"].items()
        for index, failure in enumerate(requirement["failures"])
        if failure["steps"]
    ]
    path, failure = found[0]
    return RealRun(report, summary, json.loads((report / "shard.json").read_text()), failure["id"], path)


# --- planting hostile files ----------------------------------------------------------------------


def changed(document: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A deep copy of `document` with the field at `path` (list indexes as text) set to `value`."""
    copied = copy.deepcopy(document)
    node: Any = copied
    for key in path[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(path[-1])] = value
    else:
        node[path[-1]] = value
    return copied


def write_json(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def sparse(path: Path, size: int = HUGE) -> Path:
    """A file of `size` bytes that takes no disk (a hole): only its size is hostile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as stream:
        stream.truncate(size)
    return path


def tiny_objects(path: Path, mib: int = 60) -> Path:
    """`mib` MiB of JSON made of tiny objects: under the size caps, millions of values once parsed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = b"{}," * (MIB // 3)
    with path.open("wb") as stream:
        stream.write(b'{"tests": [')
        for _ in range(mib):
            stream.write(block)
        stream.write(b"{}]}")
    return path


def fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def link(path: Path, target: Path | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    return path


def with_raw(path: Path, document: dict[str, Any], marker: str, raw: str) -> Path:
    """The document with `marker` (a string value) replaced by raw JSON text, such as `Infinity`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document).replace(json.dumps(marker), raw))
    return path


Plant = Callable[[Path, RealRun], list[str]]  # plants files under a fresh dir, returns the argv


@dataclass(frozen=True)
class Attack:
    cls: str  # one of CLASSES, or "issue" for the attacks the issue names beyond them
    plant: Plant
    expected: str  # a fragment the one error line must hold (the file, the field)
    exit_code: int = 2


# --- summary.json: diff, --rerun-failed, replay, --history-dir -----------------------------------


def _step(real: RealRun, *rest: str) -> tuple[str, ...]:
    return (*real.failure_path, "steps", "0", *rest)


def summary_attacks(place: Callable[[Path], Path], argv: Callable[[Path, RealRun], list[str]]) -> dict[str, Attack]:
    """The classes of malformed summary.json, for a command that finds the file at `place(dir)`."""

    def planted(build: Callable[[Path, RealRun], object]) -> Plant:
        def plant(root: Path, real: RealRun) -> list[str]:
            build(place(root), real)
            return argv(root, real)

        return plant

    outside = "outside/summary.json"
    return {
        "a list where a map of headers is": Attack(
            "types",
            planted(lambda p, r: write_json(p, changed(r.summary, _step(r, "request_headers"), ["x"]))),
            "/steps/0/request_headers: ",
        ),
        "an exit code of 999": Attack(
            "ranges", planted(lambda p, r: write_json(p, changed(r.summary, ("exit_code",), 999))), "/exit_code: 999"
        ),
        "a summary of 1.2 GB": Attack("sizes", planted(lambda p, r: sparse(p)), "is 1200000000 bytes, over the limit"),
        "a summary linked out of its directory": Attack(
            "links",
            planted(lambda p, r: link(p, write_json(p.parent.parent / outside, r.summary))),
            "is a symbolic link",
        ),
        "a FIFO for a summary": Attack("special files", planted(lambda p, r: fifo(p)), "is a FIFO, not a regular file"),
        "60 MiB of tiny objects": Attack(
            "counts", planted(lambda p, r: tiny_objects(p)), "holds more than 4000000 JSON values"
        ),
    }


def _summary_in(root: Path) -> Path:
    return root / "run" / "summary.json"


DIFF = summary_attacks(_summary_in, lambda root, real: ["diff", str(real.report_dir), str(root / "run")])
RERUN = summary_attacks(_summary_in, lambda root, real: ["run", "--reference", "--rerun-failed", str(root / "run")])
HISTORY = summary_attacks(
    lambda root: root / "history" / "runs" / "20260101T000000Z-abcdef.json",
    lambda root, real: ["run", "--reference", "--history-dir", str(root / "history")],
)
# The history dir's summaries are its own: linked out means `runs/<id>.json` pointing elsewhere.


def _replay(root: Path, real: RealRun) -> list[str]:
    return ["replay", real.failure_id, "--report-dir", str(root / "run"), "--reference"]


def _body_file(hostile: Callable[[Path], object]) -> Plant:
    """The failure's first step sends a body file; `hostile` plants what is at its path."""

    def plant(root: Path, real: RealRun) -> list[str]:
        summary = changed(real.summary, _step(real, "request_body_file"), "bodies/crafted-1.json")
        write_json(_summary_in(root), summary)
        hostile(root / "run" / "bodies" / "crafted-1.json")
        return _replay(root, real)

    return plant


def _secret_outside(path: Path) -> Path:
    secret = write_json(path.parent.parent.parent / "secret.json", {"private": "do-not-post-me"})
    return link(path, secret)


def _summary_with(field: Callable[[RealRun], tuple[str, ...]], value: Any) -> Plant:
    def plant(root: Path, real: RealRun) -> list[str]:
        write_json(_summary_in(root), changed(real.summary, field(real), value))
        return _replay(root, real)

    return plant


def _summary_with_infinity(root: Path, real: RealRun) -> list[str]:
    with_raw(_summary_in(root), changed(real.summary, ("duration_seconds",), "∞"), "∞", "Infinity")
    return _replay(root, real)


REPLAY = {
    **summary_attacks(_summary_in, _replay),
    "a body file linked out of the report dir": Attack(
        "issue", _body_file(_secret_outside), "crafted-1.json: is a symbolic link"
    ),
    "a FIFO for a body file": Attack("issue", _body_file(fifo), "crafted-1.json: is a FIFO"),
    "a body file linked to /dev/zero": Attack(
        "issue", _body_file(lambda p: link(p, "/dev/zero")), "crafted-1.json: is a symbolic link"
    ),
    "a body file of 1.2 GB": Attack("issue", _body_file(sparse), "crafted-1.json: is 1200000000 bytes"),
    "CR/LF in a method": Attack(
        "issue", _summary_with(lambda r: _step(r, "method"), "GET\r\nX-Injected: 1"), "/steps/0/method: "
    ),
    "CR/LF in a header name": Attack(
        "issue",
        _summary_with(lambda r: _step(r, "request_headers"), {"x-a\r\nx-injected": "1"}),
        "/steps/0/request_headers",
    ),
    "a number where a text is": Attack(
        "issue", _summary_with(lambda r: (*r.failure_path, "title"), 5), "/title: 5 is not of type"
    ),
    "a date that is not a date": Attack(
        "issue", _summary_with(lambda r: ("started_at",), "2026-13-45T99:99:99Z"), "/started_at: "
    ),
    "mixed time zones": Attack(
        "issue", _summary_with(lambda r: ("finished_at",), "2026-01-15T10:00:00+02:00"), "/finished_at: "
    ),
    "an unknown requirement id": Attack(
        "issue",
        _summary_with(lambda r: (*r.failure_path, "requirement_id"), "P2-XXX-999"),
        "/requirement_id: P2-XXX-999 is not a requirement of this suite's catalog",
    ),
    "Infinity for a count": Attack("issue", _summary_with_infinity, "is not JSON: Infinity is not a JSON number"),
}


# --- shard.json: merge ---------------------------------------------------------------------------


def _merge(root: Path, real: RealRun) -> list[str]:
    """The hostile shard, and a good second one of the same run."""
    shutil.copytree(real.report_dir, root / "good", ignore=shutil.ignore_patterns("allure-results", "*.html"))
    write_json(root / "good" / "shard.json", changed(real.shard, ("index",), 1))
    return ["merge", str(root / "shard"), str(root / "good"), "-o", str(root / "merged")]


def _shard(build: Callable[[Path, RealRun], object]) -> Plant:
    def plant(root: Path, real: RealRun) -> list[str]:
        build(root / "shard" / "shard.json", real)
        return _merge(root, real)

    return plant


def _shard_with(path: tuple[str, ...], value: Any) -> Plant:
    return _shard(lambda p, r: write_json(p, changed(r.shard, path, value)))


def _bodies_linked_out(root: Path, real: RealRun) -> list[str]:
    write_json(root / "shard" / "shard.json", real.shard)
    (root / "elsewhere").mkdir()
    (root / "elsewhere" / "id_rsa").write_text("-----BEGIN PRIVATE KEY-----")
    link(root / "shard" / "bodies", root / "elsewhere")
    return _merge(root, real)


def _fifo_in_bodies(root: Path, real: RealRun) -> list[str]:
    write_json(root / "shard" / "shard.json", real.shard)
    fifo(root / "shard" / "bodies" / "P2-SEM-004-0000000000-1.json")
    return _merge(root, real)


MERGE = {
    "a list where a map of verdicts is": Attack(
        "types", _shard_with(("recorder", "evaluations"), ["P2-SEM-004"]), "/recorder/evaluations: "
    ),
    "a shard claiming 10⁹ shards": Attack(
        "ranges", _shard_with(("total",), 10**9), "/total: 1000000000 is greater than the maximum of 256"
    ),
    "a shard of 1.2 GB": Attack("sizes", _shard(lambda p, r: sparse(p)), "is 1200000000 bytes, over the limit"),
    "a bodies/ dir linked out of the shard": Attack("links", _bodies_linked_out, "bodies: is a symbolic link"),
    "a FIFO for a shard": Attack("special files", _shard(lambda p, r: fifo(p)), "is a FIFO, not a regular file"),
    "60 MiB of tiny objects": Attack(
        "counts", _shard(lambda p, r: tiny_objects(p)), "holds more than 4000000 JSON values"
    ),
    "a FIFO among the folded bodies": Attack("issue", _fifo_in_bodies, "is a FIFO, not a regular file"),
    "a date that is not a date": Attack(
        "issue", _shard_with(("started_at",), "2026-02-30T10:00:00Z"), '/started_at: "2026-02-30T10:00:00Z" is not a'
    ),
    "mixed time zones": Attack("issue", _shard_with(("finished_at",), "2026-01-15T10:00:00+02:00"), "/finished_at: "),
    "an unknown requirement id": Attack(
        "issue",
        _shard_with(("recorder", "not_applicable"), {"P2-XXX-999": "no reason"}),
        "/recorder/not_applicable/P2-XXX-999: P2-XXX-999 is not a requirement of this suite's catalog",
    ),
    "Infinity seconds waited": Attack(
        "issue",
        _shard(lambda p, r: with_raw(p, changed(r.shard, ("rate_limits", "waited_seconds"), "∞"), "∞", "Infinity")),
        "is not JSON: Infinity is not a JSON number",
    ),
}


# --- waivers and config files ------------------------------------------------------------------

WAIVER = "  - {requirement: P2-PRO-004, reason: proxy, owner: team, expires: 2030-01-01}\n"
ONE_WAIVER = "waivers:\n" + WAIVER


def _waivers(text: str | None = None, special: Callable[[Path], object] | None = None) -> Plant:
    def plant(root: Path, real: RealRun) -> list[str]:
        path = root / "waivers.yaml"
        if special is not None:
            special(path)
        else:
            path.write_text(text or "")
        return ["run", "--reference", "--classes", "health", "--waivers", str(path)]

    return plant


WAIVERS = {
    "a number where a text is": Attack(
        "types", _waivers(ONE_WAIVER.replace("owner: team", "owner: 123")), "/waivers/0/owner: 123 is not of type"
    ),
    "an expiry that is not a date": Attack(
        "ranges", _waivers(ONE_WAIVER.replace("2030-01-01", "2030-02-30")), "entry 1 has a bad expiry date '2030-02-30'"
    ),
    "a waivers file of 1.2 GB": Attack("sizes", _waivers(special=sparse), "is 1200000000 bytes, over the limit"),
    "a waivers file linked to /dev/zero": Attack(
        "links", _waivers(special=lambda p: link(p, "/dev/zero")), "--waivers is not a readable file"
    ),
    "a FIFO for a waivers file": Attack("special files", _waivers(special=fifo), "--waivers is not a readable file"),
    "11 000 waivers": Attack("counts", _waivers("waivers:\n" + WAIVER.replace("proxy", "p") * 11_000), "/waivers: "),
}


def _config(text: str | None = None, special: Callable[[Path], object] | None = None) -> Plant:
    def plant(root: Path, real: RealRun) -> list[str]:
        path = root / "run.toml"
        if special is not None:
            special(path)
        else:
            path.write_text(text or "")
        return ["run", "--reference", "--config", str(path)]

    return plant


CONFIG = {
    "a list where a number is": Attack("types", _config("seed = [1]\n"), "must be an integer, got [1]"),
    "2 000 workers": Attack("ranges", _config("workers = 2000\n"), "must be at most"),
    "a config file of 1.2 GB": Attack("sizes", _config(special=sparse), "is 1200000000 bytes, over the limit"),
    "a config file linked to /dev/zero": Attack(
        "links", _config(special=lambda p: link(p, "/dev/zero")), "--config is not a readable file"
    ),
    "a FIFO for a config file": Attack("special files", _config(special=fifo), "--config is not a readable file"),
    "100 000 classes": Attack("counts", _config("classes = [" + '"health",' * 100_000 + "]\n"), "/classes: "),
}


# --- bundle --verify ---------------------------------------------------------------------------


def _archive(manifest: bytes) -> Plant:
    """A bundle whose SHA256SUMS lists its members, so the verification reaches the manifest."""

    def plant(root: Path, real: RealRun) -> list[str]:
        path = root / "crafted.tar.gz"
        members = {"report/manifest.json": manifest, "contract/phase2.yaml": b"openapi: 3.1.0\n"}
        sums = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in members.items())
        with tarfile.open(path, "w:gz", compresslevel=1) as archive:
            for name, data in {**members, "SHA256SUMS": sums.encode()}.items():
                info = tarfile.TarInfo(f"phase2-conformance-crafted/{name}")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        return ["bundle", "--verify", str(path)]

    return plant


def _archive_file(special: Callable[[Path], object]) -> Plant:
    def plant(root: Path, real: RealRun) -> list[str]:
        special(root / "crafted.tar.gz")
        return ["bundle", "--verify", str(root / "crafted.tar.gz")]

    return plant


def _real_manifest(real: RealRun, path: tuple[str, ...], value: Any) -> bytes:
    manifest = json.loads((real.report_dir / "manifest.json").read_text())
    return json.dumps(changed(manifest, path, value)).encode()


BUNDLE = {
    "a list where the manifest's map of files is": Attack(
        "types",
        lambda root, real: _archive(_real_manifest(real, ("files",), [1, 2]))(root, real),
        "report/manifest.json is not a manifest (wrong shape): /files: ",
        exit_code=1,
    ),
    "a manifest naming a file outside the report": Attack(
        "ranges",
        lambda root, real: _archive(_real_manifest(real, ("files",), {"../../etc/passwd": {"sha256": "0" * 64}}))(
            root, real
        ),
        "report/manifest.json is not a manifest (wrong shape): /files: ",
        exit_code=1,
    ),
    "an archive of 1.2 GB": Attack("sizes", _archive_file(sparse), "is 1200000000 bytes, over the limit"),
    "an archive linked to /dev/zero": Attack(
        "links", _archive_file(lambda p: link(p, "/dev/zero")), "is a device, not a regular file"
    ),
    "a FIFO for an archive": Attack("special files", _archive_file(fifo), "is a FIFO, not a regular file"),
    "a manifest of tiny objects": Attack(
        "counts",
        lambda root, real: _archive(b'{"files": [' + b"{}," * (4 * MIB) + b"{}]}")(root, real),
        "holds more than 1000000 JSON values",
        exit_code=1,
    ),
}

TABLE: dict[str, dict[str, Attack]] = {
    "merge": MERGE,
    "replay": REPLAY,
    "diff": DIFF,
    "bundle --verify": BUNDLE,
    "run --rerun-failed": RERUN,
    "--waivers": WAIVERS,
    "--config": CONFIG,
    "--history-dir": HISTORY,
}


# --- running the table -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    exit_code: object
    stdout: str
    stderr: str
    traceback: bool
    cpu_seconds: float
    peak_rss_mb: float


@pytest.fixture(scope="module")
def results(real: RealRun, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, Cell]]:
    """The cells of a command, run once (in one process) when the first of its tests asks."""
    cache: dict[str, dict[str, Cell]] = {}

    def of(command: str) -> dict[str, Cell]:
        if command not in cache:
            base = tmp_path_factory.mktemp(command.strip("-").replace(" ", "-"))
            cells = []
            for number, (name, attack) in enumerate(TABLE[command].items()):
                root = base / f"cell-{number}"
                root.mkdir()
                cells.append({"id": name, "argv": attack.plant(root, real), "cwd": str(root)})
            (base / "cells.json").write_text(json.dumps(cells))
            subprocess.run(
                [sys.executable, "-m", "tests.security.input_driver", str(base / "cells.json"), str(base / "out.json")],
                cwd=ROOT,
                env=_clean_env(None),
                timeout=BATCH_TIMEOUT,
                check=False,
            )
            found = json.loads((base / "out.json").read_text()) if (base / "out.json").exists() else {}
            cache[command] = {name: Cell(**cell) for name, cell in found.items()}
        return cache[command]

    return of


@pytest.mark.parametrize(
    ("command", "attack"), [(command, name) for command, attacks in TABLE.items() for name in attacks]
)
def test_a_hostile_input_is_refused_in_one_line_within_bounds(
    results: Callable[[str], dict[str, Cell]], command: str, attack: str
) -> None:
    expected = TABLE[command][attack]
    cell = results(command).get(attack)
    assert cell is not None, f"{command}: the batch ended before {attack!r} (a hang or a crash)"
    assert not cell.traceback, cell.stderr
    assert cell.exit_code == expected.exit_code, cell.stdout + cell.stderr
    lines = cell.stderr.strip().splitlines()
    if expected.exit_code == 2:
        assert len(lines) == 1 and lines[0].startswith("phase2-conformance: error: "), cell.stderr
    else:
        assert lines[0].endswith("verification FAILED") and len(lines) == 2, cell.stderr
    assert expected.expected in cell.stderr, cell.stderr
    assert cell.cpu_seconds < MAX_CPU_SECONDS, f"{cell.cpu_seconds:.1f} s of CPU"
    assert cell.peak_rss_mb < MAX_RSS_MB, f"peak RSS {cell.peak_rss_mb:.0f} MB"
    assert "do-not-post-me" not in cell.stdout + cell.stderr


def test_every_reading_command_meets_every_class() -> None:
    for command, attacks in TABLE.items():
        assert {attack.cls for attack in attacks.values()} >= set(CLASSES), command

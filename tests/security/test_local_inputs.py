"""Files given on the command line are hostile too: each crafted one is refused in one line.

`bundle --verify` answers `verification FAILED` (exit 1) for an archive with a huge member, a
manifest of the wrong shape, nested deep or of a million values; a waivers file using YAML aliases
(billion laughs) or nesting deep is exit 2. All in bounded time and memory. The table of every
reading command × every class of malformed input is `test_hostile_inputs.py`.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.security.hostile import MAX_RSS_MB, CliRun, run_cli

BUDGET_SECONDS = 60.0


def timed(arguments: list[str], cwd: Path) -> tuple[CliRun, float]:
    started = time.monotonic()
    run = run_cli(arguments, cwd, report=False)
    elapsed = time.monotonic() - started
    assert "Traceback" not in run.stdout + run.stderr, run.stderr
    assert run.peak_rss_mb < MAX_RSS_MB, f"peak RSS {run.peak_rss_mb:.0f} MB"
    assert elapsed < BUDGET_SECONDS, f"took {elapsed:.0f}s"
    print(f"exit {run.exit_code}, peak RSS {run.peak_rss_mb:.0f} MB, {elapsed:.1f}s: {run.stderr.splitlines()[:1]}")
    return run, elapsed


def one_error_line(run: CliRun) -> str:
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("phase2-conformance: error:"), run.stderr
    return lines[0]


# --- bundle --verify ----------------------------------------------------------------------------


def write_bundle(path: Path, members: dict[str, bytes | tuple[int, Callable[[], io.RawIOBase]]]) -> Path:
    """A tar.gz with a top folder and SHA256SUMS covering the given members (bytes, or a size and a
    stream for members too big to hold)."""
    top = "phase2-conformance-crafted"
    with tarfile.open(path, "w:gz", compresslevel=1) as archive:
        sums = []
        for name, content in members.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            if isinstance(content, bytes):
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
                sums.append(f"{hashlib.sha256(content).hexdigest()}  {name}\n")
            else:
                info.size, stream = content[0], content[1]()
                archive.addfile(info, stream)
                sums.append(f"{'0' * 64}  {name}\n")
        data = "".join(sums).encode()
        info = tarfile.TarInfo(f"{top}/SHA256SUMS")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return path


class Zeros(io.RawIOBase):
    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer)
        view[:] = bytes(len(view))
        return len(view)

    def readable(self) -> bool:
        return True


CONTRACT = b"openapi: 3.1.0\n"
CRAFTED_BUNDLES: dict[str, tuple[dict[str, bytes | tuple[int, Callable[[], io.RawIOBase]]], str]] = {
    "a member of 300 MiB": (
        {"report/huge.bin": (300 * 1024 * 1024, Zeros), "contract/phase2.yaml": CONTRACT},
        "cap per file",
    ),
    "a manifest of the wrong shape": (
        {"report/manifest.json": b'{"files": [1, 2, 3], "contract_sha256": 5}', "contract/phase2.yaml": CONTRACT},
        "wrong shape",
    ),
    "a manifest whose files are not objects": (
        {"report/manifest.json": b'{"files": {"a": 1}, "contract_sha256": "x"}', "contract/phase2.yaml": CONTRACT},
        "wrong shape",
    ),
    "a manifest nested a million levels deep": (
        {"report/manifest.json": b"[" * 10_000 + b"]" * 10_000, "contract/phase2.yaml": CONTRACT},
        "nested deeper than",
    ),
    "a manifest of a million values": (
        {"report/manifest.json": b"[" * 1_000_000 + b"]" * 1_000_000, "contract/phase2.yaml": CONTRACT},
        "holds more than 1000000 JSON values",
    ),
    "a member name that drives the terminal": (
        {"report/\x1b]0;pwned\x07\x1b[2J\nOK.txt": b"x", "contract/phase2.yaml": CONTRACT},
        "\\x1b]0;pwned",
    ),
}


@pytest.mark.parametrize("case", list(CRAFTED_BUNDLES))
def test_bundle_verify_on_a_crafted_archive_is_verification_failed(case: str, tmp_path: Path) -> None:
    members, problem = CRAFTED_BUNDLES[case]
    archive = write_bundle(tmp_path / "crafted.tar.gz", members)
    run, _ = timed(["bundle", "--verify", str(archive)], tmp_path)
    assert run.exit_code == 1, run.stderr
    lines = run.stderr.splitlines()
    assert lines[0].endswith("verification FAILED"), run.stderr
    assert any(problem in line for line in lines[1:]), run.stderr
    assert "\x1b" not in run.stderr and "\x07" not in run.stderr
    assert all(line.startswith("  - ") for line in lines[1:]), "one line per problem, none forged"


# --- waivers ------------------------------------------------------------------------------------

BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))
    + "waivers:\n  - requirement: P2-PRO-004\n    reason: *i\n    owner: team\n    expires: 2030-01-01\n"
)
CRAFTED_WAIVERS = {
    "billion laughs": (BILLION_LAUGHS, "aliases"),
    "nested a hundred thousand levels": ("waivers: " + "[" * 100_000 + "]" * 100_000, "nested deeper"),
    "2 MB": ("#" * (2 * 1024 * 1024), "over the limit of 1048576"),
}


@pytest.mark.parametrize("case", list(CRAFTED_WAIVERS))
def test_a_crafted_waivers_file_is_exit_2(case: str, tmp_path: Path) -> None:
    text, reason = CRAFTED_WAIVERS[case]
    (tmp_path / "waivers.yaml").write_text(text)
    run, _ = timed(["run", "--reference", "--classes", "health", "--waivers", str(tmp_path / "waivers.yaml")], tmp_path)
    assert run.exit_code == 2, run.stdout + run.stderr
    line = one_error_line(run)
    assert "waivers file" in line and reason in line, line

"""One archive for a vendor's submission: the report dir, the contract and catalog it ran with, checksums.

    phase2-conformance-<run-id>/
      report/...                  the report dir, manifest.json included
      contract/phase2.yaml        the contract whose SHA-256 the manifest names
      contract/requirements.yaml  the requirement catalog
      SHA256SUMS                  `sha256sum -c SHA256SUMS` format, paths relative to this folder

`verify_bundle` reads the archive without extracting it: every file listed and matching, nothing
unlisted, no links or paths escaping the folder, the report files matching the manifest, and the
contract being the one the run used.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from conformance import local_files
from conformance.contract.files import contract_dir
from conformance.errors import ConfigError
from conformance.reporting.manifest import FILENAME as MANIFEST
from conformance.reporting.manifest import report_files, sha256_file

SUMS = "SHA256SUMS"
# Caps on an archive given to `bundle --verify` (a real one is a few MB).
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024
MAX_MEMBERS = 100_000
MAX_TEXT_BYTES = 16 * 1024 * 1024  # SHA256SUMS and the manifest, which are read whole
CONTRACT_FILES = ("phase2.yaml", "requirements.yaml")
_SUM_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")


def _read_manifest(report_dir: Path) -> dict[str, Any]:
    """The report dir's manifest, through the one door for local files: inside the dir, no link
    followed, bounded, validated against `manifest.schema.json` (no file named outside the dir)."""
    manifest: dict[str, Any] = local_files.read_json_inside(report_dir, MANIFEST, local_files.MANIFEST)
    return manifest


def create_bundle(report_dir: Path, output: Path | None = None, contract_files: Path | None = None) -> Path:
    """Pack a report dir; raises `ConfigError` if it is not one, or the contract is not the run's."""
    report_dir = report_dir.resolve()
    if not report_dir.is_dir():
        raise ConfigError(f"{report_dir} is not a directory")
    manifest = _read_manifest(report_dir)
    source = contract_files or contract_dir()
    contract_sha = (
        hashlib.sha256((source / CONTRACT_FILES[0]).read_bytes()).hexdigest()
        if (source / CONTRACT_FILES[0]).is_file()
        else None
    )
    if contract_sha != manifest["contract_sha256"]:
        raise ConfigError(
            f"the contract in {source} (sha256 {contract_sha}) is not the one the run used "
            f"({manifest['contract_sha256']}); give the right one with --contract-dir"
        )
    changed = [
        name
        for name, entry in manifest["files"].items()
        if not (report_dir / name).is_file() or sha256_file(report_dir / name) != entry["sha256"]
    ]
    if changed:
        raise ConfigError(f"{report_dir} changed since the run wrote its manifest: {', '.join(sorted(changed)[:5])}")
    top = f"phase2-conformance-{manifest.get('run_id') or report_dir.name}"
    output = output or report_dir.parent / f"{report_dir.name}.tar.gz"
    entries: list[tuple[str, Path]] = [(f"report/{MANIFEST}", report_dir / MANIFEST)]
    entries += [(f"report/{p.as_posix()}", report_dir / p) for p in report_files(report_dir)]
    entries += [(f"contract/{name}", source / name) for name in CONTRACT_FILES]
    sums = "".join(f"{sha256_file(path)}  {name}\n" for name, path in sorted(entries))
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with tarfile.open(partial, "w:gz") as archive:
        for name, path in sorted(entries):
            archive.add(path, arcname=f"{top}/{name}", recursive=False, filter=_normalised)
        data = sums.encode("utf-8")
        info = tarfile.TarInfo(f"{top}/{SUMS}")
        info.size, info.mode = len(data), 0o644
        archive.addfile(info, io.BytesIO(data))
    partial.replace(output)
    return output


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


@dataclass
class Verification:
    files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.files > 0


def verify_bundle(path: Path) -> Verification:
    """Check an archive made by `create_bundle`; `ConfigError` only if there is no file to read.

    The archive is hostile until verified: members are hashed as they stream (never held), a
    member or an archive over its size cap, too many members, or a manifest of the wrong shape
    or nested deep is a problem found, in bounded time and memory.
    """
    # A regular file the user named (never a FIFO or /dev/zero), streamed under the archive's cap.
    stream = local_files.open_named(path, MAX_ARCHIVE_BYTES, "bundle")
    result = Verification()
    try:
        with stream, tarfile.open(fileobj=stream, mode="r:gz") as archive:
            contents = _contents(archive, result)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        result.problems.append(f"not a readable tar.gz archive: {' '.join(str(exc).split())[:200]}")
        return result
    if result.problems:
        return result
    tops = {name.split("/", 1)[0] for name in contents.digests}
    if len(tops) != 1:
        result.problems.append(f"expected one top folder, found {len(tops)}")
        return result
    top = tops.pop()
    digests = {name[len(top) + 1 :]: digest for name, digest in contents.digests.items()}
    texts = {name[len(top) + 1 :]: data for name, data in contents.texts.items()}
    if SUMS not in texts:
        result.problems.append(f"no {SUMS} in the archive")
        return result
    listed: dict[str, str] = {}
    for line in texts[SUMS].decode("utf-8", errors="replace").splitlines():
        match = _SUM_LINE.match(line)
        if not match:
            result.problems.append(f"malformed line in {SUMS}: {line[:80]!r}")
            continue
        listed[match.group(2)] = match.group(1)
    for name, digest in sorted(listed.items()):
        if name not in digests:
            result.problems.append(f"listed but missing: {name}")
        elif digests[name] != digest:
            result.problems.append(f"checksum mismatch: {name}")
        else:
            result.files += 1
    for name in sorted(set(digests) - set(listed) - {SUMS}):
        result.problems.append(f"not listed in {SUMS}: {name}")
    _check_manifest(digests, texts, result)
    return result


@dataclass
class _Contents:
    digests: dict[str, str] = field(default_factory=dict)  # name -> sha256 of every regular file
    texts: dict[str, bytes] = field(default_factory=dict)  # SHA256SUMS and the manifest, read whole


def _contents(archive: tarfile.TarFile, result: Verification) -> _Contents:
    contents = _Contents()
    total = 0
    # Iterated, not getmembers(): a member past a cap stops the reading before the next one is
    # inflated (skipping over a member means decompressing it).
    for count, member in enumerate(archive, 1):
        if count > MAX_MEMBERS:
            result.problems.append(f"more than {MAX_MEMBERS} members in the archive")
            return contents
        name = PurePosixPath(member.name)
        if name.is_absolute() or ".." in name.parts:
            result.problems.append(f"unsafe path in the archive: {member.name}")
            continue
        if member.isdir():
            continue
        if not member.isfile():
            result.problems.append(f"not a regular file: {member.name}")
            continue
        total += member.size
        if member.size > MAX_MEMBER_BYTES or total > MAX_ARCHIVE_BYTES:
            result.problems.append(
                f"{member.name} is {member.size} bytes: over the {MAX_MEMBER_BYTES}-byte cap per file or the "
                f"{MAX_ARCHIVE_BYTES}-byte cap per archive"
            )
            return contents
        stream = archive.extractfile(member)
        if stream is None:
            continue
        keep = name.name in (SUMS, MANIFEST) and member.size <= MAX_TEXT_BYTES
        digest = hashlib.sha256()
        kept = bytearray()
        while chunk := stream.read(1 << 16):
            digest.update(chunk)
            if keep:
                kept += chunk
        contents.digests[name.as_posix()] = digest.hexdigest()
        if keep:
            contents.texts[name.as_posix()] = bytes(kept)
    return contents


def _check_manifest(digests: dict[str, str], texts: dict[str, bytes], result: Verification) -> None:
    manifest_name = f"report/{MANIFEST}"
    if manifest_name not in texts:
        result.problems.append(f"no readable {manifest_name} in the archive")
        return
    try:
        manifest = local_files.parse_json(texts[manifest_name], local_files.MANIFEST, manifest_name)
    except local_files.InputError as exc:
        result.problems.append(f"{manifest_name} is not a manifest: {exc}"[:300])
        return
    violation = local_files.first_violation(manifest, local_files.MANIFEST)
    if violation is not None:
        where = local_files.pointer(violation.path)
        result.problems.append(f"{manifest_name} is not a manifest (wrong shape): {where}: {violation.message}"[:300])
        return
    entries, contract_sha = manifest["files"], manifest["contract_sha256"]
    for name, entry in sorted(entries.items()):
        digest = digests.get(f"report/{name}")
        if digest is None:
            result.problems.append(f"in the manifest but not in the archive: report/{name}"[:300])
        elif digest != entry["sha256"]:
            result.problems.append(f"differs from the manifest: report/{name}"[:300])
    if digests.get(f"contract/{CONTRACT_FILES[0]}") != contract_sha:
        result.problems.append("the contract in the archive is not the one the manifest names")

"""The one door for every file the suite reads from outside: opened safely, sized, parsed under limits, validated.

Report dirs, shard dirs, bundles, waivers, history and config files come from other machines (CI
artifacts, a vendor's bundle, a fork's pull request), so they are as hostile as a target. Every
read goes through here:

- a file inside a directory (`read_inside`: summary.json of a report dir, shard.json, a folded
  body) is opened relative to that directory, component by component, with `O_NOFOLLOW`: a
  symbolic link is refused, so nothing outside the directory is ever read; a path the user typed
  (`read_named`: `diff OLD.json`, `--waivers FILE`) is followed as typed, the user chose it;
- only a regular file is read (a FIFO, a device such as /dev/zero, a socket or a directory is
  refused after `fstat` on the open descriptor, and `O_NONBLOCK` keeps a FIFO from hanging the
  open), its size checked before reading and the reading itself capped (a file that grows after the
  check is still cut);
- JSON (`load_json`) is measured before it is parsed: its values are counted and its nesting
  measured on the raw bytes in linear time, so a 60 MiB file of tiny objects never becomes
  gigabytes of Python objects; `NaN`, `Infinity`, numbers out of a double's range and lone UTF-16
  surrogates are refused;
- the parsed document is validated against its published JSON Schema (`KINDS`) before any field
  is used.

Every refusal is one `InputError` (a `ConfigError`: exit 2) naming the file and, for content, the
field as a JSON pointer: `shards/1/shard.json: /total: 1000000000 is greater than the maximum of 256`.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePath
from typing import Any, BinaryIO

import jsonschema_rs

from conformance.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parent
MiB = 1024 * 1024
SHOWN_CHARS = 160  # of a value or key from the file, in the one error line
_READ_CHUNK = 1 << 20
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
# A string, even one that never closes (it then runs to the end): one pass, no backtracking, so a
# crafted run of quotes and backslashes cannot make the scan quadratic.
_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_BRACKET_RUN = re.compile(rb"[\[{]+|[\]}]+")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class InputError(ConfigError):
    """A file from outside was refused; the message names the file and, for content, the field."""


@dataclass(frozen=True)
class FileKind:
    """A kind of file the suite reads: its caps and the JSON Schema its content must meet.

    The caps fit real files with room to spare (a summary.json of a run with hundreds of failures
    is a few MB) and keep a crafted one's parse well under 1 GiB of memory."""

    name: str
    max_bytes: int
    max_values: int  # JSON values (objects, arrays, keys, scalars) in the document
    max_depth: int
    schema: str | None  # the published JSON Schema, relative to the conformance package

    @property
    def schema_path(self) -> Path | None:
        return None if self.schema is None else _PACKAGE / self.schema


SUMMARY = FileKind("summary.json", 64 * MiB, 4_000_000, 32, "reporting/summary.schema.json")
SHARD = FileKind("shard.json", 64 * MiB, 4_000_000, 32, "runner/shard.schema.json")
MANIFEST = FileKind("manifest.json", 16 * MiB, 1_000_000, 8, "reporting/manifest.schema.json")
WAIVERS = FileKind("waivers file", 1 * MiB, 100_000, 16, "waivers.schema.json")
CONFIG = FileKind("config file", 1 * MiB, 100_000, 8, "settings/config.schema.json")
KINDS = (SUMMARY, SHARD, MANIFEST, WAIVERS, CONFIG)
# A request body a replay sends (folded into bodies/ by a run): the target's body limit is far lower.
MAX_BODY_FILE_BYTES = 64 * MiB
# The history dir (`--history-dir`): earlier runs' summaries under runs/, as `<run-id>.json` or
# `<name>/summary.json`. Only the newest by name are read (run ids start with their UTC time): the
# trend's runs and the one being reported; together under a cap whatever the count.
HISTORY_RUNS = "runs"
HISTORY_NEWEST = 31
MAX_HISTORY_ENTRIES = 100_000
MAX_HISTORY_BYTES = 1024 * MiB  # one at a time in memory: this bounds the time spent reading


def shown(value: object) -> str:
    """A value or a key from a file, cut short for the one error line (the CLI escapes controls)."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


# --- opening -------------------------------------------------------------------------------------


def _refuse_special(descriptor: int, where: str, max_bytes: int) -> int:
    """The size of the open file, or `InputError` when it is not a regular file or is over the cap."""
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        what = (
            "a directory"
            if stat.S_ISDIR(status.st_mode)
            else "a FIFO"
            if stat.S_ISFIFO(status.st_mode)
            else "a socket"
            if stat.S_ISSOCK(status.st_mode)
            else "a device"
        )
        raise InputError(f"{where}: is {what}, not a regular file")
    if status.st_size > max_bytes:
        raise InputError(f"{where}: is {status.st_size} bytes, over the limit of {max_bytes}")
    return status.st_size


def _read_capped(descriptor: int, where: str, max_bytes: int) -> bytes:
    _refuse_special(descriptor, where, max_bytes)
    chunks: list[bytes] = []
    total = 0
    while chunk := os.read(descriptor, min(_READ_CHUNK, max_bytes + 1 - total)):
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            # It grew after the size was checked.
            raise InputError(f"{where}: is over the limit of {max_bytes} bytes")
    return b"".join(chunks)


def _os_problem(error: OSError, where: str) -> InputError:
    if error.errno == errno.ELOOP:
        return InputError(f"{where}: is a symbolic link; links are not followed out of the directory")
    if error.errno == errno.ENOENT:
        return InputError(f"{where}: no such file")
    if error.errno == errno.ENXIO:  # what `open` says of a socket
        return InputError(f"{where}: is a socket, not a regular file")
    return InputError(f"{where}: cannot be read ({error.strerror})")


def _parts(relative: str | PurePath, where: str) -> tuple[str, ...]:
    parts = PurePath(relative).parts
    if not parts or PurePath(relative).is_absolute() or any(part in ("..", ".") for part in parts):
        raise InputError(f"{where}: is not a path inside its directory")
    return parts


def _is_link(name: str, directory: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=directory, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _open_inside(directory: Path, relative: str | PurePath, *, want_directory: bool = False) -> int:
    """A descriptor of `directory/relative`, no link followed below `directory` (the user named that)."""
    where = str(directory / relative)
    parts = _parts(relative, where)
    try:
        current = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        raise _os_problem(error, str(directory)) from None
    try:
        for index, part in enumerate(parts):
            flags = _OPEN_FLAGS | os.O_NOFOLLOW
            if index < len(parts) - 1 or want_directory:
                flags |= os.O_DIRECTORY
            try:
                opened = os.open(part, flags, dir_fd=current)
            except OSError as error:
                # O_DIRECTORY on a link says "not a directory": name the link for what it is.
                if error.errno == errno.ENOTDIR and _is_link(part, current):
                    error = OSError(errno.ELOOP, "a symbolic link")
                raise _os_problem(error, where) from None
            os.close(current)
            current = opened
    except BaseException:
        os.close(current)
        raise
    return current


def _named(label: str, path: Path | str) -> str:
    return f"{label} {path}" if label else str(path)


def read_inside(directory: Path, relative: str | PurePath, max_bytes: int, label: str = "") -> bytes:
    """The bytes of a regular file inside `directory` (no symbolic link followed), at most `max_bytes`.

    `label` says what the file is in messages ("waivers file"); a path ending in its name needs none."""
    try:
        descriptor = _open_inside(directory, relative)
    except InputError as error:
        raise InputError(f"{label} {error}" if label else str(error)) from None
    try:
        return _read_capped(descriptor, _named(label, directory / relative), max_bytes)
    finally:
        os.close(descriptor)


def read_named(path: Path, max_bytes: int, label: str = "") -> bytes:
    """The bytes of a file the user named (its links followed as typed), if it is a regular file within the cap."""
    where = _named(label, path)
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        raise _os_problem(error, where) from None
    try:
        return _read_capped(descriptor, where, max_bytes)
    finally:
        os.close(descriptor)


def open_named(path: Path, max_bytes: int, label: str = "") -> BinaryIO:
    """A file the user named, open for streaming (an archive too big to hold), if it is a regular
    file within the cap; the caller closes it."""
    where = _named(label, path)
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        raise _os_problem(error, where) from None
    try:
        _refuse_special(descriptor, where, max_bytes)
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


@dataclass(frozen=True)
class DirectoryFile:
    name: str
    data: bytes


def files_inside(
    directory: Path, relative: str, *, max_files: int, max_bytes_each: int, max_total: int
) -> Iterator[DirectoryFile]:
    """The regular files directly in `directory/relative` (nothing if it does not exist), read one at a time.

    `directory/relative` itself and every entry are opened without following links; an entry that
    is a link, a FIFO or a device, a subdirectory, too many files or too many bytes is `InputError`."""
    where = str(directory / relative)
    try:
        folder = _open_inside(directory, relative, want_directory=True)
    except InputError as error:
        if str(error).endswith("no such file"):
            return
        raise
    try:
        with os.scandir(folder) as entries:
            names = []
            for entry in entries:
                names.append(entry.name)
                if len(names) > max_files:
                    raise InputError(f"{where}: holds more than {max_files} files")
        total = 0
        for name in sorted(names):
            try:
                descriptor = os.open(name, _OPEN_FLAGS | os.O_NOFOLLOW, dir_fd=folder)
            except OSError as error:
                raise _os_problem(error, f"{where}/{shown(name)}") from None
            try:
                data = _read_capped(descriptor, f"{where}/{shown(name)}", max_bytes_each)
            finally:
                os.close(descriptor)
            total += len(data)
            if total > max_total:
                raise InputError(f"{where}: its files are over the limit of {max_total} bytes together")
            yield DirectoryFile(name, data)
    finally:
        os.close(folder)


# --- JSON --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JsonShape:
    values: int  # an upper bound of the values in the document (keys included)
    deeper_than_limit: bool


def measure_json(raw: bytes, max_depth: int, max_values: int | None = None) -> JsonShape:
    """Count a JSON text's values and measure its nesting on the raw bytes, in linear time, before
    any parse. Counting stops early (the nesting is not measured) once `max_values` is passed."""
    if raw.count(b"[") + raw.count(b"{") <= max_depth and max_values is None:
        return JsonShape(0, False)
    stripped = _STRING.sub(b'""', raw)
    values = 1 + sum(stripped.count(token) for token in (b",", b":", b"[", b"{"))
    if max_values is not None and values > max_values:
        return JsonShape(values, False)
    depth = 0
    for run in _BRACKET_RUN.finditer(stripped):
        token = run.group()
        depth += len(token) if token[0] in b"[{" else -len(token)
        if depth > max_depth:
            return JsonShape(values, True)
    return JsonShape(values, False)


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{shown(text)} is out of range for a number")
    return number


def parse_json(raw: bytes, kind: FileKind, where: str) -> Any:
    """The document of a JSON file, parsed under `kind`'s caps; `InputError` naming `where` else."""
    if len(raw) > kind.max_bytes:
        raise InputError(f"{where}: is over the limit of {kind.max_bytes} bytes for a {kind.name}")
    shape = measure_json(raw, kind.max_depth, kind.max_values)
    if shape.values > kind.max_values:
        raise InputError(f"{where}: holds more than {kind.max_values} JSON values, more than a {kind.name} has")
    if shape.deeper_than_limit:
        raise InputError(f"{where}: nested deeper than {kind.max_depth} levels, deeper than a {kind.name} is")
    try:
        document = json.loads(raw, parse_constant=_constant, parse_float=_finite)
    except (ValueError, RecursionError) as error:
        raise InputError(f"{where}: is not JSON: {shown(' '.join(str(error).split()))}") from None
    if _SURROGATE_ESCAPE.search(raw):
        try:
            json.dumps(document, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(f"{where}: holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text") from None
    return document


# --- schemas -----------------------------------------------------------------------------------


def _schema(path: Path) -> Any:
    with path.open("rb") as stream:
        return json.load(stream)


@cache
def _validator(schema_path: Path) -> Any:
    # The published schemas refer to each other by `$id` (a shard's steps are summary.json's steps).
    others = [_schema(path) for path in (kind.schema_path for kind in KINDS) if path is not None and path.exists()]
    registry = jsonschema_rs.Registry([(schema["$id"], schema) for schema in others if "$id" in schema])
    return jsonschema_rs.validator_for(_schema(schema_path), validate_formats=True, registry=registry)


def pointer(path: Any) -> str:
    """A JSON pointer (RFC 6901) to a field, its keys cut short; the whole document is `(top level)`."""
    parts = [shown(str(part)).replace("~", "~0").replace("/", "~1") for part in path]
    return "/" + "/".join(parts) if parts else "(top level)"


@dataclass(frozen=True)
class Violation:
    """The first place a document breaks its schema."""

    path: tuple[str | int, ...]
    message: str


def first_violation(document: Any, kind: FileKind) -> Violation | None:
    schema = kind.schema_path
    if schema is None:
        return None
    for error in _validator(schema).iter_errors(document):
        return Violation(tuple(error.instance_path), error.message)
    return None


def validate(document: Any, kind: FileKind, where: str) -> None:
    """`InputError` naming the file and the first field that breaks `kind`'s schema."""
    violation = first_violation(document, kind)
    if violation is not None:
        raise refuse(where, violation.path, shown(violation.message))


def refuse(where: str, path: Any, problem: str) -> InputError:
    """An `InputError` for a field that meets the schema but not a rule the schema cannot state."""
    return InputError(f"{where}: {pointer(path)}: {problem}")


def load_json(raw: bytes, kind: FileKind, where: str) -> Any:
    """Parse under `kind`'s caps and validate against its schema."""
    document = parse_json(raw, kind, where)
    validate(document, kind, where)
    return document


def read_json_inside(directory: Path, relative: str, kind: FileKind, label: str = "") -> Any:
    """A JSON file inside `directory` (no link followed), parsed under its caps and validated."""
    raw = read_inside(directory, relative, kind.max_bytes, label)
    return load_json(raw, kind, _named(label, directory / relative))


def read_json_named(path: Path, kind: FileKind, label: str = "") -> Any:
    """A JSON file the user named, parsed under its caps and validated."""
    return load_json(read_named(path, kind.max_bytes, label), kind, _named(label, path))


# --- the history dir ---------------------------------------------------------------------------


def history_summaries(history_dir: Path) -> Iterator[Any]:
    """The newest earlier runs' summaries of a history dir, oldest first, each read inside the dir (no
    link followed), under its caps and validated; one at a time, so memory holds one."""
    try:
        folder = _open_inside(history_dir, HISTORY_RUNS, want_directory=True)
    except InputError as error:
        if str(error).endswith("no such file"):
            return
        raise InputError(f"history dir {error}") from None
    try:
        with os.scandir(folder) as entries:
            found: list[str] = []
            for entry in entries:
                if len(found) >= MAX_HISTORY_ENTRIES:
                    raise InputError(
                        f"history dir {history_dir / HISTORY_RUNS}: holds more than {MAX_HISTORY_ENTRIES} entries"
                    )
                if entry.is_dir(follow_symlinks=False):
                    found.append(f"{entry.name}/summary.json")
                elif entry.name.endswith(".json"):
                    found.append(entry.name)
    finally:
        os.close(folder)
    total = 0
    for relative in sorted(found)[-HISTORY_NEWEST:]:
        raw = read_inside(history_dir, f"{HISTORY_RUNS}/{relative}", SUMMARY.max_bytes, "history file")
        total += len(raw)
        if total > MAX_HISTORY_BYTES:
            raise InputError(f"history dir {history_dir}: its newest runs are over {MAX_HISTORY_BYTES} bytes together")
        yield load_json(raw, SUMMARY, f"history file {history_dir / HISTORY_RUNS / relative}")

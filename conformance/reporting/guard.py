"""The last gate before a report leaves the run: every file in the report dir passes the redactor.

Reporters are fed a `RunResult` whose strings were masked when they were recorded; this pass
catches whatever reached the directory another way (Allure's own attachments, the reference's
log, a secret learnt after a string was recorded). It runs before the manifest hashes the files.
"""

from __future__ import annotations

import logging
from pathlib import Path

from conformance.client.secrets import Redactor

log = logging.getLogger("conformance.reporting")

# A report file bigger than this is not one the suite wrote; it is dropped rather than shipped unread.
MAX_SCRUBBED_BYTES = 256 * 1024 * 1024


def scrub_directory(directory: Path, redactor: Redactor, skip: frozenset[str] = frozenset()) -> list[Path]:
    """Rewrite every file under `directory` with its secrets masked; returns the files changed."""
    changed: list[Path] = []
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or path.is_symlink() or path.name in skip:
            continue
        if path.stat().st_size > MAX_SCRUBBED_BYTES:
            log.error("removing %s: too large to check for secrets", path)
            path.unlink()
            changed.append(path)
            continue
        data = path.read_bytes()
        # surrogateescape keeps bytes that are not UTF-8 exactly as they were.
        text = data.decode("utf-8", errors="surrogateescape")
        masked = redactor.text(text)
        if masked != text:
            partial = path.with_name(f".{path.name}.partial")
            partial.write_bytes(masked.encode("utf-8", errors="surrogateescape"))
            partial.replace(path)
            changed.append(path)
    return changed

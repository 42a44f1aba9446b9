"""Reproductions that reproduce: a failure's steps as data, and a curl command that sends its request whole.

Nothing is cut. A request body too long for a command line, not UTF-8, or holding control
characters (which a terminal shows escaped, so a pasted command would send other bytes) is folded
into `bodies/<failure-id>-<n>.<ext>` in the report dir, byte for byte (masked like every report
file), and the command reads it with `--data-binary @file`. The command never holds the token: it
reads `$PHASE2_TOKEN`, which `phase2-conformance token` prints (of the step's kind).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from pathlib import Path

from conformance.client.observed import ObservedResponse, curl_header
from conformance.client.secrets import Redactor
from conformance.client.step_log import LoggedStep, credential_kind
from conformance.results import Step

FOLD_BYTES = 2048  # a longer request body goes to a file
RESPONSE_EXCERPT = 4096  # the failing step's response body kept for the report
EARLIER_RESPONSE_EXCERPT = 1024  # earlier steps: enough for ids and a glance
BODIES_DIR = "bodies"
TOKEN_VARIABLE = "PHASE2_TOKEN"
_SKIPPED_HEADERS = frozenset({"content-length", "accept-encoding", "connection", "user-agent", "host"})
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class BodyFolder:
    """Writes folded request bodies under `<report_dir>/bodies/`; names are stable per failure id."""

    def __init__(self, report_dir: Path, redactor: Redactor) -> None:
        self.report_dir = report_dir
        self.redactor = redactor

    def fold(self, failure_id: str, index: int, body: bytes, media_type: str) -> str:
        """Write `body` masked (bytes that are not UTF-8 kept as they are); returns its path in the report dir."""
        extension = "json" if media_type.endswith("json") else "bin"
        relative = f"{BODIES_DIR}/{failure_id}-{index}.{extension}"
        path = self.report_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        text = self.redactor.text(body.decode("utf-8", errors="surrogateescape"))
        path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
        return relative


def _excerpt(body: bytes, redactor: Redactor, limit: int) -> str | None:
    if not body:
        return None
    text = body[:limit].decode("utf-8", errors="replace")
    if len(body) > limit:
        text += f"… ({len(body)} bytes)"
    return redactor.text(text)


def _inline(body: bytes) -> str | None:
    """The body as command-line text, or None when it must be folded into a file."""
    if len(body) > FOLD_BYTES:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if _CONTROL.search(text) else text


def credential_of(observed: ObservedResponse) -> str:
    """The kind of credential a request carried (for requests outside a step log)."""
    authorization = observed.sent_header("authorization")
    if authorization is None:
        return "none"
    scheme, _, value = authorization.partition(" ")
    return credential_kind(value.strip(), "primary", None) if scheme.lower() == "bearer" else "unknown"


def build_steps(
    logged: Sequence[LoggedStep], redactor: Redactor, folder: BodyFolder | None, failure_id: str
) -> tuple[Step, ...]:
    """The masked steps of a failure, the failing one last; long bodies folded when a folder is given."""
    steps = []
    for index, item in enumerate(logged, start=1):
        observed = item.observed
        body = observed.request_body or b""
        inline = _inline(body) if body else None
        body_file = None
        if body and inline is None:
            if folder is not None:
                body_file = folder.fold(failure_id, index, body, observed.sent_header("content-type") or "")
            else:
                # Nowhere to fold it (no report dir): kept whole rather than cut.
                inline = body.decode("utf-8", errors="replace")
        last = index == len(logged)
        steps.append(
            Step(
                method=observed.method,
                url=redactor.text(observed.url),
                request_headers=redactor.headers(observed.request_headers),
                # A body that had to be folded is shown as an excerpt; replays read the file.
                request_body=redactor.text(inline)
                if inline is not None
                else _excerpt(body, redactor, RESPONSE_EXCERPT),
                status=observed.status,
                response_headers=redactor.headers(observed.headers),
                response_body=_excerpt(observed.body, redactor, RESPONSE_EXCERPT if last else EARLIER_RESPONSE_EXCERPT),
                expected=None if item.expected is None else redactor.text(item.expected),
                credential=item.credential,
                operation_id=observed.operation.operation_id if observed.operation else None,
                request_body_file=body_file,
            )
        )
    return tuple(steps)


def curl_command(step: Step, report_dir: Path | None) -> str:
    """A curl command sending the step's request whole; the token comes from `$PHASE2_TOKEN`.

    A body folded into a file is read from `report_dir` (as the run was given it).
    """
    parts = ["curl", "-sS", "-X", shlex.quote(step.method)]
    for name, value in step.request_headers.items():
        lowered = name.lower()
        if lowered in _SKIPPED_HEADERS:
            continue
        if lowered == "authorization":
            # Double quotes: the shell expands the variable; the token never appears in a report.
            parts += ["-H", f'"Authorization: Bearer ${TOKEN_VARIABLE}"']
            continue
        parts += ["-H", shlex.quote(curl_header(name, value))]
    if step.request_body_file is not None:
        location = Path(report_dir, step.request_body_file) if report_dir is not None else Path(step.request_body_file)
        parts += ["--data-binary", shlex.quote(f"@{location}")]
    elif step.request_body is not None:
        parts += ["--data-binary", shlex.quote(step.request_body)]
    parts.append(shlex.quote(step.url))
    return " ".join(parts)


def token_hint(step: Step) -> str | None:
    """How to get the step's token into `$PHASE2_TOKEN` (None when it sent none)."""
    kind = step.credential
    if kind == "none":
        return None
    if kind.startswith("role:"):
        _, _, rest = kind.partition(":")
        role, _, scope = rest.partition(":")
        options = "" if role == "primary" else f" --role {role}"
        options += f" --scope {shlex.quote(scope)}" if scope else ""
        return f"export {TOKEN_VARIABLE}=$(phase2-conformance token{options} <the run's target flags>)"
    command = token_command_kind(kind)
    if command is not None:
        return f"export {TOKEN_VARIABLE}=$(phase2-conformance token --kind {command} <the run's target flags>)"
    return "the step sent a token the scenario obtained itself; `phase2-conformance replay` cannot mint it either"


def token_command_kind(credential: str) -> str | None:
    """The `token --kind` that mints a credential of this step kind (None: a role's token, or none)."""
    family, _, name = credential.partition(":")
    if family == "issuer":
        return name
    if family == "junk":
        return f"junk-{name}"
    return None

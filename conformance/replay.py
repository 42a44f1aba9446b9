"""`phase2-conformance replay ID`: send a recorded failure's steps again and say whether it still fails.

The failure is read from a run's summary.json (the last run under `reports/`, or `--report-dir`).
Each step is sent in order to the target of the command's flags, with a fresh credential of the
kind the step sent (the configured client's token, a forged one minted again by the suite's test
issuer, junk, none). What earlier answers named (ids, ETags, Locations, the suite's world names)
is replaced in later steps by what the target answers now, so a create → update → stale update
sequence works on the world the replay created. Names the suite made up are made fresh, so a
replay never collides with the run's own data, and what the replay created is deleted after it.

The verdict, from the failing step's answer:
- the failure's own check, when it judges one response (a response check), run on the new answer;
- else the statuses that would have kept the rule, when the rule is the status;
- else inconclusive: the answers are printed to compare by hand.
Exit 0 when the failure no longer reproduces, 1 when it reproduces or cannot be shown not to
(an inconclusive verdict, or an earlier step that answered differently than in the run), 2 when
the failure cannot be read or replayed, 3 when the target or its auth provider cannot be reached.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import jwt

from conformance import local_files
from conformance.client import step_log
from conformance.client.observed import ObservedResponse, from_httpx
from conformance.client.secrets import Redactor
from conformance.contract import load_catalog
from conformance.contract.spec import Contract, Operation
from conformance.errors import AuthError, ConfigError
from conformance.results import Step

DEFAULT_REPORTS = Path("reports")
MAX_BODY_FILE_BYTES = local_files.MAX_BODY_FILE_BYTES
MAX_STEPS = 4 * step_log.MAX_STEPS  # a summary holding more was not written by this suite
FALLBACK_TENANT = "phase2-conformance"  # as the auth class: when the primary's token names no tenant


def _opaque_junk() -> str:
    return f"p2c-not-a-jwt-{secrets.token_hex(8)}"


def _three_part_junk() -> str:
    return "bm90.YSBqd3Q.x"


# The auth class's non-JWT tokens (P2-AUTH-002), by `token --kind` name.
JUNK: dict[str, Callable[[], str]] = {"junk-opaque": _opaque_junk, "junk-three-part": _three_part_junk}
_HOP_HEADERS = frozenset({"content-length", "accept-encoding", "connection", "user-agent", "host", "authorization"})
_ID_MEMBER = re.compile(r'"((?:[a-z_]*_)?id|next_cursor)"\s*:\s*"([^"\\]{1,200})"')
_SUITE_NAME = re.compile(r'("name"\s*:\s*")(p2c-[A-Za-z0-9 _.-]{1,60})(")')
_EXPECTED_STATUSES = re.compile(r"^(?:[1-5][0-9][0-9]|[1-5]xx)(?: or (?:[1-5][0-9][0-9]|[1-5]xx))*\b")
_EXCERPT_MARK = re.compile(r"… \(\d+ bytes\)$")
ReplayVerdict = Literal["reproduces", "fixed", "inconclusive"]
MAX_SCANNED_ANSWER = 1024 * 1024  # of an answer, the part searched for the ids later steps use


# --- reading the failure ----------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedFailure:
    """What a replay needs of one failure of summary.json."""

    id: str
    requirement_id: str
    title: str
    check: str
    cause: str
    expected_status: tuple[int, ...]
    steps: tuple[Step, ...]
    steps_dropped: int
    report_dir: Path
    base_url: str
    feature_flags: tuple[str, ...]


def summary_path(report_dir: str | None) -> Path:
    """summary.json of `report_dir` (a dir or the file), else of the newest run under ./reports."""
    if report_dir:
        # Whether it can be read (a regular file, no link) is the one door's to say (`load_failure`).
        path = Path(report_dir)
        return path / "summary.json" if path.is_dir() else path
    runs = sorted((p for p in DEFAULT_REPORTS.glob("*/summary.json") if p.is_file()), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise ConfigError("no earlier run under ./reports: give --report-dir DIR")
    return runs[-1]


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"summary.json: {what} is not a string")
    return value


def _optional(value: Any, what: str) -> str | None:
    return None if value is None else _text(value, what)


def _headers(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"summary.json: {what} is not an object")
    return {_text(k, what): _text(v, what) for k, v in value.items()}


def _step(document: Any) -> Step:
    if not isinstance(document, dict):
        raise ConfigError("summary.json: a step is not an object")
    status = document.get("status")
    return Step(
        method=_text(document.get("method"), "a step's method"),
        url=_text(document.get("url"), "a step's url"),
        request_headers=_headers(document.get("request_headers"), "a step's request headers"),
        request_body=_optional(document.get("request_body"), "a step's request body"),
        status=status if isinstance(status, int) else None,
        response_headers=_headers(document.get("response_headers"), "a step's response headers"),
        response_body=_optional(document.get("response_body"), "a step's response body"),
        expected=_optional(document.get("expected"), "a step's expectation"),
        credential=_text(document.get("credential", "unknown"), "a step's credential"),
        operation_id=_optional(document.get("operation_id"), "a step's operation"),
        request_body_file=_optional(document.get("request_body_file"), "a step's body file"),
    )


def load_failure(path: Path, failure_id: str) -> RecordedFailure:
    """The failure `failure_id` of a summary.json: a file from outside, read through the one door for
    local files (inside its report dir, no link followed, bounded) and validated against the published
    schema before any field is used."""
    summary = local_files.read_json_inside(path.parent, path.name, local_files.SUMMARY)
    requirements = summary["requirements"]
    target = summary["target"]
    # Each failure with where it is in the file, to name the field a refusal is about.
    failures = [
        (("requirements", rid, "failures", index), f)
        for rid, r in requirements.items()
        for index, f in enumerate(r["failures"])
    ]
    known = [f["id"] for _, f in failures]
    field, document = next(((at, f) for at, f in failures if f["id"] == failure_id), ((), None))
    if document is None:
        listed = ", ".join(str(k) for k in known[:8]) + (f" and {len(known) - 8} more" if len(known) > 8 else "")
        raise ConfigError(f"no failure {failure_id} in {path}; its failures: {listed or 'none'}")
    steps = document.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ConfigError(f"failure {failure_id} recorded no request to replay (a run-wide rule)")
    if len(steps) > MAX_STEPS:
        raise ConfigError(f"failure {failure_id} has {len(steps)} steps, more than a run records ({MAX_STEPS})")
    requirement_id = document["requirement_id"]
    if requirement_id not in load_catalog():
        problem = f"{requirement_id} is not a requirement of this suite's catalog"
        raise local_files.refuse(str(path), (*field, "requirement_id"), problem)
    report_dir = path.parent
    for step in steps:
        # Every body file is read once now, so a hostile one stops the replay before any request goes out.
        if step.get("request_body_file") is not None:
            local_files.read_inside(report_dir, step["request_body_file"], MAX_BODY_FILE_BYTES, "body file")
    statuses = document.get("expected_status") or []
    flags = summary.get("feature_flags") or []
    return RecordedFailure(
        id=failure_id,
        requirement_id=_text(document.get("requirement_id"), "requirement_id"),
        title=_text(document.get("title"), "title"),
        check=_text(document.get("check"), "check"),
        cause=_text(document.get("cause", document.get("message", "")), "cause"),
        expected_status=tuple(s for s in statuses if isinstance(s, int)),
        steps=tuple(_step(step) for step in steps),
        steps_dropped=int(document.get("steps_dropped") or 0),
        report_dir=path.parent,
        base_url=_text(target.get("base_url"), "target.base_url"),
        feature_flags=tuple(str(flag) for flag in flags if isinstance(flag, str)),
    )


def body_of(step: Step, report_dir: Path) -> bytes | None:
    """The step's request body, whole: from its file (inside the report dir, bounded) or inline."""
    if step.request_body_file is not None:
        # Inside the report dir, no link followed, a regular file under the cap: never a FIFO or /dev/zero.
        return local_files.read_inside(report_dir, step.request_body_file, MAX_BODY_FILE_BYTES, "body file")
    if step.request_body is None:
        return None
    if _EXCERPT_MARK.search(step.request_body):
        raise ConfigError("a step's body was kept as an excerpt only (no body file): it cannot be sent whole")
    return step.request_body.encode("utf-8")


# --- credentials ------------------------------------------------------------------------------


class Credentials:
    """Fresh credentials of a step's kind: the configured clients' tokens, the test issuer's, junk."""

    def __init__(self, session: Any) -> None:
        self.session = session  # conformance.runner.session.RunSession, prepared

    def all_scopes(self) -> str:
        contract: Contract = self.session.contract
        return " ".join(sorted({scope for operation in contract.operations for scope in operation.scopes}))

    def tenant(self) -> str:
        try:
            claims = jwt.decode(self.session.tokens.token("primary"), options={"verify_signature": False})
        except jwt.PyJWTError:
            return FALLBACK_TENANT
        tenant = claims.get("tenant")
        return tenant if isinstance(tenant, str) and tenant else FALLBACK_TENANT

    def token(self, credential: str) -> str | None:
        """The token to send for a step's credential kind (None: send none)."""
        family, _, rest = credential.partition(":")
        if credential == "none":
            return None
        if family == "role":
            role, _, scope = rest.partition(":")
            return str(self.session.tokens.token(role, scope or None))
        if family == "junk" and f"junk-{rest}" in JUNK:
            return JUNK[f"junk-{rest}"]()
        if family == "issuer":
            issuer = self.session.resources.test_issuer
            if issuer is None:
                raise AuthError(
                    "this failure used a token of the suite's test issuer: the target must trust it as in the "
                    "run (pass --test-issuer-trusted and the run's --test-issuer-port; the reference trusts it)"
                )
            from conformance.peers.token_issuer import KINDS

            if rest not in KINDS and rest != "without-scope":
                raise ConfigError(f"unknown test-issuer token kind {rest!r}")
            token = str(issuer.mint(rest, self.tenant(), self.all_scopes()))
            self.session.redactor.register(token)
            return token
        raise ConfigError(
            f"a step sent a credential of kind {credential!r} (one the scenario obtained itself, such as a "
            "token it then revoked): a replay cannot mint it"
        )


# --- sending the steps ------------------------------------------------------------------------


@dataclass
class Substitutions:
    """Values the run's answers named, and what the target answers now in their place."""

    values: dict[str, str] = field(default_factory=dict)

    def apply(self, text: str) -> str:
        for old in sorted(self.values, key=len, reverse=True):
            text = text.replace(old, self.values[old])
        return text

    def learn(self, recorded: Step, now: ObservedResponse) -> None:
        pairs = [
            (recorded.response_headers.get("etag"), now.headers.get("etag")),
            (recorded.response_headers.get("location"), now.headers.get("location")),
        ]
        seen_before: dict[str, list[str]] = {}
        for match in _ID_MEMBER.finditer(recorded.response_body or ""):
            seen_before.setdefault(match.group(1), []).append(match.group(2))
        seen_now: dict[str, list[str]] = {}
        for match in _ID_MEMBER.finditer(now.text()[:MAX_SCANNED_ANSWER]):
            seen_now.setdefault(match.group(1), []).append(match.group(2))
        for key, values in seen_before.items():
            pairs += list(zip(values, seen_now.get(key, []), strict=False))
        for old, new in pairs:
            if old and new and old != new and old != "***":
                self.values[old] = new
                if "/" in old and "/" in new:
                    self.values.setdefault(old.rsplit("/", 1)[1], new.rsplit("/", 1)[1])

    def freshen_names(self, body: str) -> str:
        """The suite's made-up world names get a fresh suffix (the run's world may still exist)."""

        def fresh(match: re.Match[str]) -> str:
            old = match.group(2)
            new = self.values.get(old) or f"p2c-replay-{secrets.token_hex(3)}-{old[4:]}"[:64].rstrip(" .-_")
            self.values[old] = new
            return match.group(1) + new + match.group(3)

        return _SUITE_NAME.sub(fresh, body)


@dataclass(frozen=True)
class ReplayedStep:
    recorded: Step
    observed: ObservedResponse


class Replayer:
    def __init__(
        self,
        failure: RecordedFailure,
        client: httpx.Client,
        contract: Contract,
        credentials: Credentials,
        base_url: str,
        out: Callable[[str], None],
    ) -> None:
        self.failure = failure
        self.client = client
        self.contract = contract
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self.out = out
        self.substitutions = Substitutions()
        self.created: list[str] = []

    def url_for(self, step: Step) -> str:
        """The step's URL on this target: the run's base URL replaced by this one."""
        recorded_base = self.failure.base_url.rstrip("/")
        url = self.substitutions.apply(step.url)
        if url.startswith(recorded_base):
            return self.base_url + url[len(recorded_base) :]
        parts, base = urlsplit(url), urlsplit(self.base_url)
        return parts._replace(scheme=base.scheme, netloc=base.netloc).geturl()

    def send(self, step: Step) -> ObservedResponse:
        headers = {
            name: self.substitutions.apply(value)
            for name, value in step.request_headers.items()
            if name.lower() not in _HOP_HEADERS and value != "***"
        }
        token = self.credentials.token(step.credential)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        body = body_of(step, self.failure.report_dir)
        if body is not None and step.request_body_file is None:
            body = self.substitutions.freshen_names(self.substitutions.apply(body.decode("utf-8"))).encode("utf-8")
        response = self.client.request(step.method, self.url_for(step), headers=headers, content=body)
        operation = self._operation(step)
        observed = from_httpx(response, operation)
        if observed.status == 201 and observed.headers.get("location"):
            self.created.append(observed.headers["location"])
        return observed

    def _operation(self, step: Step) -> Operation | None:
        if step.operation_id is None:
            return None
        try:
            return self.contract.operation(step.operation_id)
        except KeyError:
            return None

    def run(self) -> list[ReplayedStep]:
        replayed = []
        for index, step in enumerate(self.failure.steps, start=1):
            observed = self.send(step)
            self.substitutions.learn(step, observed)
            replayed.append(ReplayedStep(step, observed))
            last = index == len(self.failure.steps)
            self.out(describe_step(index, len(self.failure.steps), step, observed, last))
        return replayed

    def clean_up(self) -> None:
        """Delete what the replay created (newest first), quietly: best effort, never the verdict."""
        token = self.credentials.token("role:primary")
        for location in reversed(self.created):
            url = location if location.startswith(("http://", "https://")) else _join(self.base_url, location)
            if urlsplit(url).netloc != urlsplit(self.base_url).netloc:
                continue  # only ever the target's own resources
            try:
                self.client.request("DELETE", url, headers={"Authorization": f"Bearer {token}"} if token else {})
            except httpx.HTTPError:
                continue


def _join(base_url: str, location: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}{location if location.startswith('/') else '/' + location}"


def describe_step(index: int, total: int, step: Step, observed: ObservedResponse, last: bool) -> str:
    expected = f"expected {step.expected}" if step.expected else "nothing was asked of it"
    marker = " (the failing step)" if last else ""
    return (
        f"  step {index}/{total}{marker}: {step.method} {observed.path} → {observed.status} "
        f"({expected}; the run got {step.status}; token {step.credential})"
    )


# --- the verdict ------------------------------------------------------------------------------


def judge(failure: RecordedFailure, replayed: list[ReplayedStep], contract: Contract) -> tuple[ReplayVerdict, str]:
    """Whether the failing step fails again, and why, in one line."""
    final = replayed[-1]
    diverged = [str(index) for index, item in enumerate(replayed[:-1], start=1) if _diverged(item)]
    verdict, reason = _judge_final(failure, final.observed, contract)
    if verdict == "fixed" and diverged:
        return "inconclusive", (
            f"{reason}, but step(s) {', '.join(diverged)} answered otherwise than in the run, so the failing "
            "step did not meet the same state"
        )
    return verdict, reason


def statuses_words(statuses: tuple[int, ...]) -> str:
    """`412`, `201 or 409`, `4xx`: whole classes named as one."""
    chosen = set(statuses)
    words: list[str] = []
    for hundred in range(100, 600, 100):
        block = set(range(hundred, hundred + 100))
        if block <= chosen:
            words.append(f"{hundred // 100}xx")
            chosen -= block
    return " or ".join(words + [str(status) for status in sorted(chosen)])


def expected_statuses(expected: str | None) -> set[int] | None:
    """The statuses a step's expectation names first ("201 (create a world)", "200 or 204", "2xx ..."), if any."""
    match = _EXPECTED_STATUSES.match(expected or "")
    if match is None:
        return None
    statuses: set[int] = set()
    for word in match.group(0).split(" or "):
        word = word.strip()
        statuses.update(range(int(word[0]) * 100, int(word[0]) * 100 + 100) if word.endswith("xx") else {int(word)})
    return statuses


def _diverged(item: ReplayedStep) -> bool:
    """An earlier step answered otherwise than in the run, and not as was asked of it either."""
    if item.recorded.status is None or item.observed.status == item.recorded.status:
        return False
    asked = expected_statuses(item.recorded.expected)
    return asked is None or item.observed.status not in asked


def _judge_final(failure: RecordedFailure, observed: ObservedResponse, contract: Contract) -> tuple[ReplayVerdict, str]:
    from conformance.checks.context import ResponseContext
    from conformance.checks.registry import REGISTRY, CheckFailed, ResponseCheck

    try:
        spec = REGISTRY.get(failure.check)
    except KeyError:
        spec = None
    if isinstance(spec, ResponseCheck):
        try:
            holds = spec(ResponseContext(observed, contract, {}))
        except CheckFailed as failed:
            cause = (
                f"{failed.actual}, expected {failed.expected}" if failed.actual and failed.expected else failed.message
            )
            return "reproduces", f"{failure.check} fails again: {failed.title}: {cause}"
        if holds:
            return "fixed", f"{failure.check} holds on the answer ({observed.status})"
        if not failure.expected_status:
            return "inconclusive", f"{failure.check} does not apply to the answer ({observed.status})"
    if failure.expected_status:
        wanted = statuses_words(failure.expected_status)
        if observed.status in failure.expected_status:
            return "fixed", f"answered {observed.status}, expected {wanted}"
        return "reproduces", f"answered {observed.status}, expected {wanted}"
    return "inconclusive", (
        f"the rule is not judged from one answer's status (the run: {failure.cause}); compare the answers above"
    )


EXIT_CODES: Mapping[ReplayVerdict, int] = {"fixed": 0, "reproduces": 1, "inconclusive": 1}


@contextmanager
def replay_session(settings: Any, redactor: Redactor) -> Iterator[Any]:
    from conformance.runner.session import RunSession

    session = RunSession(settings, redactor)
    try:
        yield session.prepare()
    finally:
        session.close()


def replay(failure: RecordedFailure, session: Any, out: Callable[[str], None]) -> int:
    """Send the failure's steps to the session's target, print each, and return the exit code."""
    assert session.client is not None and session.settings.base_url is not None
    replayer = Replayer(failure, session.client, session.contract, Credentials(session), session.settings.base_url, out)
    dropped = f" ({failure.steps_dropped} earlier steps were not kept by the run)" if failure.steps_dropped else ""
    out(f"replaying {failure.id}: {failure.requirement_id} {failure.title}{dropped}")
    out(f"  the run: {failure.cause}")
    try:
        replayed = replayer.run()
    finally:
        replayer.clean_up()
    verdict, reason = judge(failure, replayed, session.contract)
    word = {"fixed": "no longer reproduces", "reproduces": "REPRODUCES", "inconclusive": "INCONCLUSIVE"}[verdict]
    out(f"{failure.id}: {word}: {reason}")
    return EXIT_CODES[verdict]


def settings_values(given: dict[str, Any], failure: RecordedFailure, report_dir: Path) -> dict[str, Any]:
    """The replay's settings: the command's target flags; the run's feature flags unless given."""
    values = dict(given)
    for unrelated in ("requirements", "operations", "rerun_failed", "shard", "history_dir", "waivers"):
        values[unrelated] = None
    values["report_dir"] = str(report_dir)
    if not values.get("feature_flags") and failure.feature_flags:
        values["feature_flags"] = ",".join(failure.feature_flags)
    needs_issuer = any(step.credential.startswith("issuer:") for step in failure.steps)
    requirement_class = load_catalog().get(failure.requirement_id).cls
    values["classes"] = ",".join(sorted({requirement_class, *(["auth"] if needs_issuer else [])}))
    return values

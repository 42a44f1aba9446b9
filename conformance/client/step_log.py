"""The requests of the scenario running in this thread, so a failure can carry the steps that led to it.

A scenario binds a `StepLog` while it runs (`recording()`); the API client adds every exchange to
it, with the kind of credential it sent (never the credential). It keeps the last `MAX_STEPS`
and counts what it dropped. Tokens minted for a purpose (the test issuer's forged ones, junk) are
noted here by value, in a bounded table, so the log can name their kind.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from conformance.client.observed import ObservedResponse

MAX_STEPS = 25
MAX_NOTED_TOKENS = 4096


@dataclass
class LoggedStep:
    observed: ObservedResponse
    credential: str
    expected: str | None = None


class StepLog:
    def __init__(self, max_steps: int = MAX_STEPS) -> None:
        self.max_steps = max_steps
        self.steps: list[LoggedStep] = []
        self.dropped = 0

    def add(self, observed: ObservedResponse, credential: str) -> None:
        self.steps.append(LoggedStep(observed, credential))
        if len(self.steps) > self.max_steps:
            del self.steps[0]
            self.dropped += 1

    def expect(self, observed: ObservedResponse, expected: str) -> None:
        """Say what was asked of the step that got `observed` (the last one that did, if repeated)."""
        for step in reversed(self.steps):
            if step.observed is observed:
                step.expected = expected
                return

    def upto(self, observed: ObservedResponse | None) -> tuple[list[LoggedStep], int]:
        """The steps up to the one that got `observed` (all when None or not logged), and how many were dropped."""
        steps = list(self.steps)
        if observed is not None:
            for index in range(len(steps) - 1, -1, -1):
                if steps[index].observed is observed:
                    return steps[: index + 1], self.dropped
        return steps, self.dropped


_CURRENT: ContextVar[StepLog | None] = ContextVar("conformance_step_log", default=None)


def current() -> StepLog | None:
    return _CURRENT.get()


@contextmanager
def recording() -> Iterator[StepLog]:
    """Log this thread's requests until the block ends (one scenario item)."""
    log = StepLog()
    token = _CURRENT.set(log)
    try:
        yield log
    finally:
        _CURRENT.reset(token)


class _NotedTokens:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: OrderedDict[str, str] = OrderedDict()

    def note(self, token: str, kind: str) -> str:
        with self._lock:
            self._kinds[token] = kind
            self._kinds.move_to_end(token)
            while len(self._kinds) > MAX_NOTED_TOKENS:
                self._kinds.popitem(last=False)
        return token

    def kind_of(self, token: str) -> str | None:
        with self._lock:
            return self._kinds.get(token)


_NOTED = _NotedTokens()


def note_token(token: str, kind: str) -> str:
    """Remember what kind of token `token` is (`issuer:expired`, `junk`); returns it."""
    return _NOTED.note(token, kind)


def credential_kind(token: str | None, role: str, scope: str | None) -> str:
    """How a step's credential is named in its record: never the credential itself."""
    if token is None:
        return f"role:{role}" + (f":{scope}" if scope else "")
    if not token:
        return "none"
    return _NOTED.kind_of(token) or "unknown"

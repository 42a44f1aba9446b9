"""An outage window for scenario checks: take a component away, always bring it back.

The outage itself (the user's commands or the reference's controls) is `target.outage`; this
module ties it to a scenario: a start that fails blocks the check, an end that fails blocks it
too and is an error of the run (the deployment may still be missing a component), and a check
that stops half-way still brings the component back in its clean-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from conformance.checks.context import ScenarioContext
from conformance.client.observed import ObservedResponse
from conformance.client.outage_hooks import Outage, OutageFailed

SETTLE_TIMEOUT = 15.0  # seconds a deployment may take to notice the component went away
SETTLE_POLL = 0.2


class OutageWindow:
    def __init__(self, ctx: ScenarioContext) -> None:
        self.ctx = ctx
        self.outage: Outage = ctx.resources.outage
        self.active = False

    def open(self) -> None:
        self.ctx.on_cleanup(self._close_after_abort)
        # Active before the command runs: a start that half-worked is still undone.
        self.active = True
        try:
            self.outage.start(self.ctx.time_left)
        except OutageFailed as exc:
            self.ctx.blocked(f"taking a component away with {self.outage.description} failed: {exc}")

    def close(self) -> None:
        """Bring the component back; a failure blocks the check and is an error of the run."""
        message = self._bring_back()
        if message is not None:
            self.ctx.blocked(message)

    def _close_after_abort(self) -> None:
        self._bring_back()

    def _bring_back(self) -> str | None:
        """End the outage once; a failure is recorded as an error of the run and returned."""
        if not self.active:
            return None
        self.active = False
        try:
            self.outage.end(max(self.ctx.time_left, 1.0))
        except OutageFailed as exc:
            message = f"bringing the component back with {self.outage.description} failed: {exc}"
            self.ctx.recorder.error(f"{self.ctx.spec.name}: {message}")
            return message
        return None

    def until(
        self, call: Callable[[], ObservedResponse], settled: Callable[[ObservedResponse], bool]
    ) -> ObservedResponse:
        """Call until the answer shows the outage (the deployment may take a moment to notice), or time is up."""
        deadline = time.monotonic() + min(SETTLE_TIMEOUT, max(self.ctx.time_left, 0.0))
        answer = call()
        while not settled(answer) and time.monotonic() < deadline:
            time.sleep(SETTLE_POLL)
            answer = call()
        return answer

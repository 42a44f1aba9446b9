"""One run's lifetime: prepare the target and its helpers, hand out the parts, finish into results.

Both faces use it: the CLI prepares a session before calling pytest (so a bad target ends in one
line and exit code 3), and the pytest plugin prepares one itself when pytest is run directly.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import requests

from conformance.checks import load_checks
from conformance.checks.context import RunResources
from conformance.client.api_client import ApiClient
from conformance.client.embedded_reference import ReferenceProcess
from conformance.client.observed import RATE_LIMITED, from_client
from conformance.client.outage_hooks import CommandOutage, ControlOutage, Outage
from conformance.client.preflight import preflight
from conformance.client.rate_governor import RateGovernor
from conformance.client.secrets import RedactingFilter, Redactor
from conformance.client.stall_breaker import StallBreaker
from conformance.client.tokens import TokenManager
from conformance.client.transport import LimitedClient, LimitedSession, Limits, make_client
from conformance.contract import load_catalog, load_contract
from conformance.contract.spec import Operation
from conformance.errors import AuthError, Phase2Error, TargetUnreachable
from conformance.recorder import Recorder
from conformance.results import RateLimitCounts, RunResult, TestOutcome, Waiver
from conformance.runner.budget import TimeBudget
from conformance.runner.judge import ContractExerciser, Judge
from conformance.runner.outcome import RunFacts, build_result
from conformance.runner.signals import SignalGuard
from conformance.settings import Settings
from conformance.smoke import SMOKE
from conformance.waivers import load_waivers

log = logging.getLogger("conformance.session")


class RunSession:
    def __init__(self, settings: Settings, redactor: Redactor | None = None) -> None:
        self.settings = settings
        self.contract = load_contract()
        self.catalog = load_catalog()
        self.redactor = redactor if redactor is not None else Redactor()
        for identity in settings.identities:
            self.redactor.register_client(identity.client_id, identity.client_secret.reveal())
        self.recorder = Recorder(self.catalog, self.redactor, settings.report_dir)
        self.resources = RunResources()
        self.started_at = datetime.now(UTC)
        self.started = time.monotonic()
        self.deadline = self.started + settings.time_budget
        self.budget = TimeBudget(settings.time_budget, self.started)
        # Shared by the suite's client and Schemathesis' session: a hanging route costs a few
        # time-outs, not one per remaining request, and the run still reaches every class.
        self.breaker = StallBreaker(settings.request_timeout, on_open=lambda route, why: self.recorder.error(why))
        # Shared the same way, the one way out for every request: one pace for the run, and 429s
        # honoured by both clients alike, no wait past the budget (whose clock runs from here, so
        # the preflight, discovery and token requests spend it too).
        self.governor = RateGovernor(
            settings.max_rate,
            deadline=self.deadline,
            on_limited=self._limited,
            on_out_of_budget=self.budget.end_overrun,
        )
        self.tests: list[TestOutcome] = []
        self.target_lost = False
        self.signals = SignalGuard()
        self.interrupted_by: int | None = None  # the signal that stopped the run
        # Set when the run stops (a signal): running items end at their next request or case.
        self.stopping = threading.Event()
        self.waivers: tuple[Waiver, ...] = ()
        self._reference: ReferenceProcess | None = None
        self._stack = contextlib.ExitStack()
        self.client: LimitedClient | None = None
        self.tokens: TokenManager | None = None
        self.api: ApiClient | None = None
        self.judge: Judge | None = None
        self.exerciser: ContractExerciser | None = None
        self.result: RunResult | None = None
        self.elsewhere: frozenset[str] = frozenset()  # a shard's: requirements other shards evaluate
        self.prepared = False

    # --- preparing ----------------------------------------------------------------------------
    def prepare(self) -> RunSession:
        """Start what the run needs and prove the target answers; raises `Phase2Error` if not."""
        if self.prepared:
            return self
        # From here on a SIGTERM or SIGHUP ends the run like Ctrl-C: partial reports, helpers stopped.
        self.signals.install()
        self._stack.callback(self.signals.restore)
        load_checks(self.settings.check_modules, read_only=self.settings.profile.name == SMOKE)
        # Before the first request: a 429 to the preflight or a token request is judged too.
        self.judge = Judge(self.contract, self.recorder, self.resources.state)
        self._mask_logs()
        if self.settings.waivers_path is not None:
            self.waivers = load_waivers(self.settings.waivers_path, self.catalog)
        try:
            self._start_helpers()
            if self.settings.reference:
                self._start_reference()
            base_url = self.settings.base_url
            assert base_url is not None
            self.client = self._stack.enter_context(
                make_client(self.settings, breaker=self.breaker, governor=self.governor)
            )
            preflight(self.client, base_url)
            self.resources.outage = self._outage(self.client, base_url)
            self.tokens = TokenManager(self.settings, self.client, self.redactor)
            self.tokens.token("primary")
        except BaseException:
            self.close()
            raise
        self.api = ApiClient(
            self.client, self.contract, self.tokens, base_url, self.judge.observe, stopping=self.stopping
        )
        session = LimitedSession(Limits.from_settings(self.settings, self.breaker, self.governor), self.settings.tls)
        self._stack.callback(session.close)
        self.exerciser = ContractExerciser(self.contract, self.judge, self.recorder, self.tokens, session)
        self.exerciser.budget = self.budget
        self.exerciser.stopping = self.stopping
        self.prepared = True
        return self

    def start_target(self) -> None:
        """Start the test issuer, the OTLP receiver and, when asked, the reference; probe nothing.

        `prepare` goes on to probe the target; `phase2-conformance doctor` diagnoses it instead."""
        self._start_helpers()
        if self.settings.reference:
            self._start_reference()

    def _mask_logs(self) -> None:
        """The suite's own log lines are masked at the source, whichever handler (CLI, pytest) shows
        them. A logger's filters do not apply to its children, so each module's logger gets one."""
        log_filter = RedactingFilter(self.redactor)
        names = ["conformance", *logging.Logger.manager.loggerDict]
        for name in names:
            if name == "conformance" or name.startswith("conformance."):
                logger = logging.getLogger(name)
                logger.addFilter(log_filter)
                self._stack.callback(logger.removeFilter, log_filter)

    def _start_helpers(self) -> None:
        classes = self.settings.classes
        if "auth" in classes and self.settings.test_issuer_trusted:
            from conformance.peers.token_issuer import TestIssuer

            self.resources.test_issuer = self._stack.enter_context(
                TestIssuer(port=self.settings.test_issuer_port, host=self.settings.callback_host)
            )
        if "telemetry" in classes:
            from conformance.peers.otlp_receiver import OtlpReceiver

            self.resources.otlp = self._stack.enter_context(
                OtlpReceiver(
                    port=self.settings.otlp_receiver_port,
                    host=self.settings.callback_host,
                    on_refused=self.recorder.error,
                )
            )

    def _start_reference(self) -> None:
        issuer = self.resources.test_issuer
        otlp = self.resources.otlp
        self._reference = ReferenceProcess(
            flags=sorted(self.settings.feature_flags),
            faults=self.settings.reference_faults,
            trust_issuer=f"{issuer.issuer}={issuer.jwks_url}" if issuer is not None else None,
            otlp_endpoint=otlp.endpoint if otlp is not None else None,
            test_controls=self.settings.reference_controls,
            log_path=self.settings.report_dir / "reference.log",
            extra_args=self.settings.reference_options,
        )
        self._stack.callback(self._reference.stop)
        self._reference.start()
        self.settings = self.settings.with_base_url(self._reference.base_url)
        if self.settings.reference_controls:
            self.resources.controls_url = self._reference.url + "/_reference"

    def _outage(self, client: LimitedClient, base_url: str) -> Outage | None:
        """The user's outage commands when given (they are explicit), else the reference's controls."""
        if self.settings.outage_start is not None and self.settings.outage_end is not None:
            return CommandOutage(self.settings.outage_start, self.settings.outage_end, base_url)
        if self.resources.controls_url is not None:
            return ControlOutage(client, self.resources.controls_url)
        return None

    # --- during the run -----------------------------------------------------------------------
    def lose_target(self, error: Phase2Error) -> None:
        """The target or its auth provider stopped answering mid-run: the run cannot pass."""
        self.target_lost = isinstance(error, TargetUnreachable | AuthError)
        self.recorder.error(str(error))

    def _limited(self, response: httpx.Response | requests.Response) -> None:
        """A 429 that is not its request's final answer: judged as the answer it is (a problem
        document with Retry-After, its request id) by the response checks, never as the answer
        of the request it delayed (only that one's final answer is)."""
        if self.judge is None:
            return  # the doctor: it diagnoses 429s itself and judges nothing
        observed = from_client(response, None)
        observed.source = RATE_LIMITED
        observed.operation = self._operation_of(observed.method, observed.path)
        self.judge.observe(observed)

    def _operation_of(self, method: str, path: str) -> Operation | None:
        base_path = urlsplit(self.settings.base_url or "").path.rstrip("/")
        if base_path and not path.startswith(base_path + "/"):
            return None
        return self.contract.match(method, path[len(base_path) :])

    @property
    def time_left(self) -> float:
        return self.deadline - time.monotonic()

    def add_test(self, outcome: TestOutcome) -> None:
        self.tests.append(outcome)

    def interrupt(self, error: BaseException | None = None) -> None:
        """A signal stopped the run: what ran so far is reported as partial, never as a verdict."""
        from conformance.runner.signals import signal_of

        self.interrupted_by = signal_of(error or KeyboardInterrupt(), self.signals)
        self.signals.hold()

    # --- finishing ----------------------------------------------------------------------------
    def finish(self) -> RunResult:
        if self.result is None:
            if self.tokens is not None and self.tokens.refreshes:
                log.info("tokens refreshed %d times during the run", self.tokens.refreshes)
            self.result = build_result(
                self.settings,
                self.contract,
                self.catalog,
                self.recorder,
                RunFacts(
                    self.started_at,
                    datetime.now(UTC),
                    tuple(self.tests),
                    self.target_lost,
                    interrupted_by=self.interrupted_by,
                    rate_limits=RateLimitCounts(
                        self.governor.limited,
                        self.governor.retries,
                        self.governor.given_up,
                        round(self.governor.waited, 3),
                    ),
                    elsewhere=self.elsewhere,
                ),
                self.waivers,
            )
        return self.result

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> RunSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

"""`phase2-conformance doctor`: every item between the suite and a full run, one line each.

The order is the order of dependence: the settings, the way to the target, the target itself, a
token, what the deployment reports, the callbacks (test issuer, spans), the extra clients, and
what a full run would therefore leave unverified. A fatal item (the target unusable) ends the
list, since nothing after it could be judged.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from conformance.client.tokens import TokenManager
from conformance.client.transport import make_client
from conformance.doctor import coverage, identity, network, service
from conformance.doctor.findings import Finding, exit_code, failed, ok, render
from conformance.doctor.settings_view import setting_findings
from conformance.errors import ExitCode, Phase2Error
from conformance.peers.otlp_receiver import OtlpReceiver
from conformance.peers.token_issuer import TestIssuer
from conformance.runner.session import RunSession
from conformance.settings import Settings

Server = TypeVar("Server", TestIssuer, OtlpReceiver)


class _Fatal(Exception):
    """A fatal finding was reported: stop diagnosing."""


class Diagnosis:
    def __init__(self, session: RunSession, out: Callable[[str], None]) -> None:
        self.session = session
        self.out = out
        self.findings: list[Finding] = []

    def report(self, finding: Finding) -> None:
        self.findings.append(finding)
        self.out(render(finding, self.session.redactor))
        if finding.fatal:
            raise _Fatal

    def report_all(self, findings: list[Finding]) -> None:
        for finding in findings:
            self.report(finding)


def diagnose(settings: Settings, out: Callable[[str], None] = print) -> ExitCode:
    """Diagnose the target of `settings`, printing one line per item; the exit code of the verdict."""
    with contextlib.ExitStack() as stack:
        if settings.reference and "report_dir" not in settings.sources:
            # The reference's log goes somewhere temporary: a diagnosis leaves no report behind.
            settings = replace(settings, report_dir=Path(stack.enter_context(tempfile.TemporaryDirectory())))
        session = RunSession(settings)
        stack.callback(session.close)
        diagnosis = Diagnosis(session, out)
        try:
            diagnosis.report_all(setting_findings(settings))
            _diagnose_target(diagnosis, stack)
        except _Fatal:
            out("  (the rest is not checked: the target is unusable)")
        return exit_code(diagnosis.findings)
    raise AssertionError("unreachable")  # pragma: no cover - the with block always returns


def _diagnose_target(diagnosis: Diagnosis, stack: contextlib.ExitStack) -> None:
    session = diagnosis.session
    report = diagnosis.report
    try:
        session.start_target()
    except Phase2Error as exc:
        report(failed("target", str(exc), "see reference.log in --report-dir", fatal=True))
    except OSError as exc:  # the test issuer's or receiver's port is taken
        report(failed("callbacks", f"cannot listen: {exc.strerror}", "choose free ports", fatal=True))
    settings = session.settings
    assert settings.base_url is not None
    if settings.reference:
        report(ok("target", f"the embedded reference at {settings.base_url}"))
    diagnosis.report_all(network.connection(settings))

    throttles = service.Throttles()
    # The run's stall breaker: a target hanging on every route costs a few time-outs, not one per item.
    # The run's governor: the doctor's requests keep its pace and wait out 429s within its budget.
    client = stack.enter_context(make_client(settings, breaker=session.breaker, governor=session.governor))
    client.event_hooks["response"].append(throttles.hook())
    sent_at = time.time()
    finding, response = network.base_path(client, settings)
    report(finding)
    assert response is not None
    requirements_of = coverage.requirements_needing
    report(network.clock(response, sent_at, requirements_of("test-issuer")))

    tokens = TokenManager(settings, client, session.redactor)
    report(identity.metadata(tokens))
    finding, claims = identity.primary_token(tokens, session.contract, settings)
    report(finding)
    access_token = tokens.token("primary")

    diagnosis.report_all(service.readiness(client, settings.base_url))
    report(service.metrics(client, settings.base_url))
    report(service.flags(client, settings, access_token))

    issuer = session.resources.test_issuer or _listening(
        stack, "test issuer", TestIssuer(settings.test_issuer_port, settings.callback_host)
    )
    if isinstance(issuer, Finding):
        report(issuer)
    else:
        tenant = claims.get("tenant")
        finding, control = identity.test_issuer(
            issuer,
            settings,
            client,
            session.contract,
            tenant if isinstance(tenant, str) and tenant else "phase2-conformance",
            requirements_of("test-issuer"),
        )
        session.redactor.register(control)
        report(finding)

    receiver = session.resources.otlp or _listening(
        stack, "spans", OtlpReceiver(settings.otlp_receiver_port, settings.callback_host)
    )
    report(receiver if isinstance(receiver, Finding) else service.spans(client, settings, receiver))

    diagnosis.report_all(identity.roles(tokens, settings, client, claims.get("tenant"), requirements_of))
    if settings.outage_start and settings.outage_end:
        outage = True, f"--outage-start {settings.outage_start!r} and --outage-end take a component away and back"
    elif settings.reference and settings.reference_controls:
        outage = True, "the reference's test controls take a component away and bring it back"
    else:
        outage = False, "the suite has no way to take a component of this deployment away"
    report(coverage.capability("outage", *outage, "outage"))
    # The rate limit last: its burst must not throttle the checks above.
    report(service.rate_limit(client, settings, access_token, throttles))
    report(coverage.unverified(diagnosis.findings, session.catalog, {}))


def _listening(stack: contextlib.ExitStack, name: str, server: Server) -> Server | Finding:
    """Start one of the suite's callback servers, or say why it cannot listen."""
    try:
        return stack.enter_context(server)
    except OSError as exc:
        return failed(name, f"cannot listen on port {server.port}: {exc.strerror}", "choose a free port")

"""Running one scenario check: its needs, its context, and what a broken precondition means."""

from __future__ import annotations

from dataclasses import replace

import httpx

from conformance.checks.context import Blocked, ScenarioContext
from conformance.checks.registry import ScenarioCheck
from conformance.client import step_log
from conformance.client.api_client import cleaning_up
from conformance.client.rate_governor import RateLimited
from conformance.client.transport import ResponseLimitExceeded, ResponseTooLarge
from conformance.errors import AuthError, TargetUnreachable
from conformance.profiles import PROFILES
from conformance.runner.outcome import _unselected_reason
from conformance.runner.session import RunSession
from conformance.settings import Settings

# Needs met by a configured client of the role of the same name.
ROLE_NEEDS = frozenset({"other-tenant", "read-only"})


def selected_requirements(session: RunSession, spec: ScenarioCheck) -> list[str]:
    return [rid for rid in spec.requirements if _unselected_reason(session.catalog.get(rid), session.settings) is None]


def missing_need(session: RunSession, spec: ScenarioCheck) -> str | None:
    for need in sorted(spec.needs):
        if need in ROLE_NEEDS:
            if session.settings.identity(need) is None:
                return f"needs a {need} client (set PHASE2_{need.upper().replace('-', '_')}_CLIENT_ID/_SECRET)"
        elif not session.resources.has(need):
            return {
                "test-issuer": "the deployment does not trust the suite's test issuer "
                "(configure it to trust the JWKS the suite serves, then pass --test-issuer-trusted)",
                "otlp": "the suite's OTLP receiver is not running",
                "controls": "the target offers no test controls (only the embedded reference does)",
                "outage": "the suite has no way to take a component of the deployment away: pass "
                "--outage-start CMD and --outage-end CMD (PHASE2_OUTAGE_START/PHASE2_OUTAGE_END), shell "
                "commands that take a component (the data store, say) away and bring it back",
            }[need]
    return None


def run_scenario(
    session: RunSession, spec: ScenarioCheck, scenarios_pending: int = 1, contract_pending: int = 0
) -> None:
    """Run one scenario; `*_pending` count the items still to start (this one included) on each of
    the executor's lanes: what its deadline and depth must leave to them."""
    assert session.api is not None
    recorder = session.recorder
    reason = missing_need(session, spec)
    if reason is not None:
        for requirement_id in spec.requirements:
            recorder.mark_not_applicable(requirement_id, reason)
        return
    deadline = session.budget.scenario_deadline(contract_pending)
    settings = session.settings
    if session.budget.shallow(scenarios_pending, contract_pending):
        settings = shallow_settings(settings)
    ctx = ScenarioContext(spec, session.api, settings, session.contract, recorder, session.resources, deadline)
    try:
        # The scenario's requests are logged, so each failure carries the steps that led to it.
        with step_log.recording():
            spec(ctx)
    except Blocked as blocked:
        for requirement_id in spec.requirements:
            recorder.mark_blocked(requirement_id, f"{spec.name} could not run: {blocked.reason}")
    except ResponseTooLarge as exc:
        # Not a broken precondition: the target answered something the suite will not read whole
        # (a bomb, JSON a million levels deep, an endless stream). Judged, so it cannot pass.
        detail = " ".join(str(exc).split())[:200]
        for requirement_id in selected_requirements(session, spec):
            recorder.failed(requirement_id, "The answer is over the suite's reading limits", detail, check=spec.name)
    except (httpx.HTTPError, ResponseLimitExceeded, RateLimited) as exc:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        for requirement_id in spec.requirements:
            recorder.mark_blocked(requirement_id, f"{spec.name}: the target did not answer properly: {detail}")
    except AuthError as exc:
        session.lose_target(exc)
        for requirement_id in spec.requirements:
            recorder.mark_blocked(requirement_id, f"{spec.name}: {exc}")
    except TargetUnreachable as exc:
        session.lose_target(exc)
        raise
    finally:
        with cleaning_up():  # a stopped run still undoes what the scenario created
            ctx.run_cleanups()


def shallow_settings(settings: Settings) -> Settings:
    """The run's settings at the least scenario depth: walk sizes and samples of the quick profile."""
    least = PROFILES["quick"]
    profile = settings.profile
    return replace(
        settings,
        profile=replace(
            profile,
            walk_size=min(profile.walk_size, least.walk_size),
            liveness_samples=min(profile.liveness_samples, least.liveness_samples),
        ),
    )

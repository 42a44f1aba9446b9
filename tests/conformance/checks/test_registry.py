"""The one decorator: each kind registered as its own type, traffic generators counted apart."""

from __future__ import annotations

import time

import pytest

from conformance.checks.context import ResponseContext, ScenarioContext
from conformance.checks.registry import (
    REGISTRY,
    BuiltinCheck,
    Registry,
    ResponseCheck,
    ScenarioCheck,
    check,
)
from conformance.contract.catalog import load_catalog
from conformance.runner.session import RunSession
from conformance.settings import load_settings


def _response_rule(ctx: ResponseContext) -> bool | None:
    """The first line is the description.

    Not this one."""
    return ctx.response.status == 200 or None


def _scenario_rule(ctx: ScenarioContext) -> None:
    ctx.passed("P2-SEM-001")


def test_each_kind_is_registered_as_its_own_type() -> None:
    registry = Registry()
    response = check("P2-PRO-003", kind="response", registry=registry)(_response_rule)
    scenario = check("P2-SEM-001", kind="scenario", needs=("otlp",), exclusive=True, registry=registry)(_scenario_rule)
    traffic = check("P2-PRO-004", kind="traffic", registry=registry, name="feed_etags")(_scenario_rule)
    builtin = check("P2-CON-001", kind="builtin", registry=registry, name="schemathesis.x")(lambda c, r, k: None)

    assert isinstance(response, ResponseCheck) and response.kind == "response"
    assert response.name == "_response_rule" and response.description == "The first line is the description."
    assert isinstance(scenario, ScenarioCheck) and scenario.needs == {"otlp"} and scenario.exclusive
    assert isinstance(traffic, ScenarioCheck) and traffic.name == "feed_etags"
    assert isinstance(builtin, BuiltinCheck)
    assert registry.responses() == (response,)
    assert registry.scenarios() == (scenario, traffic)  # both are work items of a run
    assert registry.builtins() == (builtin,)
    assert len(registry) == 4 and registry.get("feed_etags") is traffic


def test_a_traffic_generator_verifies_nothing_and_is_listed_apart() -> None:
    registry = Registry()
    traffic = check("P2-PRO-004", kind="traffic", registry=registry, name="feed")(_scenario_rule)
    assert traffic.requirements == ("P2-PRO-004",)  # what it feeds: it runs when P2-PRO-004 is selected
    assert traffic.verifies == ()
    assert registry.requirement_ids() == frozenset()
    assert registry.checks_of("P2-PRO-004") == ()
    assert registry.traffic_for("P2-PRO-004") == (traffic,)
    judged = check("P2-PRO-004", kind="response", registry=registry)(_response_rule)
    assert registry.checks_of("P2-PRO-004") == (judged,)
    assert registry.requirement_ids() == {"P2-PRO-004"}


def test_a_must_fed_only_by_traffic_has_no_check() -> None:
    catalog = load_catalog()
    registry = Registry()
    for requirement in catalog:
        if requirement.id != "P2-PRO-012":
            check(requirement.id, kind="response", registry=registry, name=f"c{requirement.id}")(_response_rule)
    check("P2-PRO-012", kind="traffic", registry=registry, name="provoke_503")(_scenario_rule)
    assert registry.validate(catalog) == [f"{catalog.get('P2-PRO-012').level} requirement P2-PRO-012 has no check"]


def test_the_suite_counts_its_traffic_generators_apart() -> None:
    from conformance.checks import load_checks

    load_checks()
    traffic = {spec.name for spec in REGISTRY.scenarios() if spec.kind == "traffic"}
    assert {"check_representations_of_real_resources", "check_refusals_carry_challenges"} <= traffic
    verified = REGISTRY.requirement_ids()
    assert REGISTRY.validate(load_catalog()) == []
    census = REGISTRY.census()
    assert f"{len(traffic)} traffic generators feed the response checks and verify none" in census
    assert f"{len(REGISTRY) - len(traffic)} checks (" in census and f"verify {len(verified)} requirements" in census


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((), "at least one requirement"),
        (("P2-SEM-001",), "unknown needs"),
    ],
)
def test_a_malformed_declaration_is_refused(arguments: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check(*arguments, kind="scenario", needs=("a-database",), registry=Registry())


def test_needs_on_a_response_check_and_unknown_kinds_are_refused() -> None:
    with pytest.raises(ValueError, match="needs, exclusive and cost are for scenarios"):
        check("P2-PRO-003", kind="response", exclusive=True, registry=Registry())  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="unknown kind of check 'responses'"):
        check("P2-PRO-003", kind="responses", registry=Registry())  # type: ignore[call-overload]


def test_a_scenario_declares_a_positive_cost_and_the_plan_uses_it() -> None:
    from conformance.contract import load_contract
    from conformance.runner.plan import SCENARIO_COST, build_plan, scenario_key

    registry = Registry()
    long_one = check("P2-SEM-001", kind="scenario", cost=2.5, name="long_one", registry=registry)(_scenario_rule)
    usual = check("P2-SEM-002", kind="scenario", name="usual", registry=registry)(_scenario_rule)
    assert (long_one.cost, usual.cost) == (2.5, None)
    settings = load_settings(
        {"base_url": "http://127.0.0.1:9/v2"}, env={"PHASE2_CLIENT_ID": "a", "PHASE2_CLIENT_SECRET": "s" * 12}
    )
    plan = build_plan(settings, load_contract(), load_catalog(), [long_one, usual])
    assert plan.get(scenario_key(long_one)).cost == 2.5 and plan.get(scenario_key(usual)).cost == SCENARIO_COST
    for cost in (0.0, -1.0):
        with pytest.raises(ValueError, match="a scenario's cost is a positive number"):
            check("P2-SEM-003", kind="scenario", cost=cost, registry=registry)(_scenario_rule)
    with pytest.raises(ValueError, match="cost are for scenarios"):
        check("P2-PRO-003", kind="response", cost=1.0, registry=Registry())  # type: ignore[call-overload]


def test_a_name_is_registered_once() -> None:
    registry = Registry()
    first = check("P2-PRO-003", kind="response", registry=registry)(_response_rule)
    check("P2-PRO-003", kind="response", registry=registry)(_response_rule)  # the same module imported again
    assert registry.responses() == (first,)

    def _response_rule_2(ctx: ResponseContext) -> bool | None:
        return None

    with pytest.raises(ValueError, match="already registered"):
        check("P2-PRO-003", kind="response", registry=registry, name="_response_rule")(_response_rule_2)


def test_a_traffic_generator_cannot_report_a_verdict() -> None:
    """What it sends is judged by the response checks; a pass from it would count as a check."""
    settings = load_settings(
        {"base_url": "http://127.0.0.1:9/v2"}, env={"PHASE2_CLIENT_ID": "a", "PHASE2_CLIENT_SECRET": "s" * 12}
    )
    registry = Registry()
    traffic = check("P2-PRO-004", kind="traffic", registry=registry, name="feed")(_scenario_rule)
    scenario = check("P2-SEM-001", kind="scenario", registry=registry)(_scenario_rule)
    with RunSession(settings) as session:

        def context(spec: ScenarioCheck) -> ScenarioContext:
            return ScenarioContext(
                spec, session.api, settings, session.contract, session.recorder, session.resources, time.monotonic()
            )  # type: ignore[arg-type]

        with pytest.raises(ValueError, match="feed reports P2-PRO-004, which it does not verify"):
            context(traffic).passed("P2-PRO-004")
        with pytest.raises(ValueError, match="which it does not verify"):
            context(traffic).not_applicable("P2-PRO-004", "no reason")
        scenario(context(scenario))
        assert session.recorder.evaluations("P2-SEM-001") == {"": 1}  # one pass, on no operation
        assert session.recorder.evaluations("P2-PRO-004") == {}

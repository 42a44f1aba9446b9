"""The plan: one work item per scenario (traffic generators too), per enabled operation, and the
stateful item, in the run's order, with stable keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.checks.context import ScenarioContext
from conformance.checks.registry import Registry, ScenarioCheck, check
from conformance.contract import load_catalog, load_contract
from conformance.runner.plan import (
    STATEFUL_KEY,
    ItemKind,
    Plan,
    build_plan,
    contract_key,
    scenario_key,
    stateful_cost,
)
from conformance.runner.st_config import enabled_operations
from conformance.settings import Settings, load_settings


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return load_settings({"reference": True, "report_dir": str(tmp_path), **values}, env={})


def _scenarios() -> tuple[ScenarioCheck, ...]:
    registry = Registry()

    def body(ctx: ScenarioContext) -> None:
        return None

    check("P2-SEM-001", "P2-SEM-004", "P2-PRO-003", kind="scenario", registry=registry, name="mostly_semantic")(body)
    check("P2-PRO-012", kind="traffic", exclusive=True, registry=registry, name="provoke_503")(body)
    return registry.scenarios()


def test_every_scenario_is_an_item_with_the_class_most_of_its_requirements_have(tmp_path: Path) -> None:
    mostly_semantic, provoke = _scenarios()
    plan = build_plan(_settings(tmp_path), load_contract(), load_catalog(), (mostly_semantic, provoke))
    first, second = plan.of_kind(ItemKind.SCENARIO)
    assert (first.key, first.cls, first.requirements) == (
        scenario_key(mostly_semantic),
        "semantic",
        ("P2-SEM-001", "P2-SEM-004", "P2-PRO-003"),
    )
    assert first.scenario is mostly_semantic and not first.exclusive
    assert (second.scenario, second.cls, second.exclusive) == (provoke, "protocol", True)  # traffic runs too
    assert first.name == "mostly_semantic" and repr(first) == f"WorkItem({first.key!r})"


def test_one_contract_item_per_enabled_operation_then_the_stateful_item(tmp_path: Path) -> None:
    settings = _settings(tmp_path, profile="standard")
    contract = load_contract()
    plan = build_plan(settings, contract, load_catalog(), _scenarios())
    kinds = [item.kind for item in plan]
    assert kinds == sorted(kinds, key=[ItemKind.SCENARIO, ItemKind.CONTRACT, ItemKind.STATEFUL].index)
    operations = enabled_operations(settings, contract)
    contract_items = plan.of_kind(ItemKind.CONTRACT)
    assert [item.key for item in contract_items] == [contract_key(op.label) for op in operations]
    assert all(item.cost == 1.0 and item.cls == "contract" for item in contract_items)
    get_world = plan.get(contract_key("GET /worlds/{world_id}"))
    assert get_world.operation == "GET /worlds/{world_id}" and get_world.name == "GET /worlds/{world_id}"
    catalog = load_catalog()
    assert all(catalog.get(rid).cls in {"contract", "protocol"} for rid in get_world.requirements)
    [stateful] = plan.of_kind(ItemKind.STATEFUL)
    assert stateful.key == STATEFUL_KEY and stateful.cost == stateful_cost(len(operations)) > 1
    assert plan.cost == sum(item.cost for item in plan) and len(plan) == 2 + len(operations) + 1


def test_a_profile_without_the_stateful_phase_plans_no_stateful_item(tmp_path: Path) -> None:
    plan = build_plan(_settings(tmp_path, profile="quick"), load_contract(), load_catalog(), ())
    assert plan.of_kind(ItemKind.STATEFUL) == () and plan.of_kind(ItemKind.CONTRACT)


def test_without_the_contract_classes_only_scenarios_are_planned(tmp_path: Path) -> None:
    settings = _settings(tmp_path, classes="semantic")
    plan = build_plan(settings, load_contract(), load_catalog(), _scenarios())
    assert {item.kind for item in plan} == {ItemKind.SCENARIO}
    # An item none of whose requirements is selected is still planned: it reports why it did not run.
    assert len(plan) == 2


def test_the_plan_is_the_same_whoever_builds_it(tmp_path: Path) -> None:
    def keys() -> list[str]:
        return [item.key for item in build_plan(_settings(tmp_path), load_contract(), load_catalog(), _scenarios())]

    assert keys() == keys()
    assert Plan(()).cost == 0 and len(Plan(())) == 0


def test_stateful_cost_is_a_third_of_the_operations_and_at_least_one() -> None:
    assert stateful_cost(1) == 1.0
    assert stateful_cost(30) == 10.0

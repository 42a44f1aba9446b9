"""A run's plan: every work item, built once from the settings and the contract.

A work item is one unit the executor runs: one contract item per enabled operation (Schemathesis
examples, coverage and fuzzing), the stateful item, one item per scenario check. Each knows its
class, the requirements it evaluates, its operation and a cost estimate (used to balance shards
and to give the longest items a head start). Its `key` is its test id in every report, the same
whichever face (CLI or pytest) ran it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from conformance.checks.registry import ScenarioCheck
from conformance.contract.catalog import RequirementCatalog
from conformance.contract.spec import Contract
from conformance.runner.st_config import enabled_operations
from conformance.settings import Settings

CONTRACT_CLASSES = frozenset({"contract", "protocol"})


class ItemKind(StrEnum):
    # The order is the run's: scenarios first (they cannot be cut short; the contract items' depth
    # takes what is left), then one item per operation, the stateful item last.
    SCENARIO = "scenario"
    CONTRACT = "contract"
    STATEFUL = "stateful"


KIND_ORDER = {ItemKind.SCENARIO: 0, ItemKind.CONTRACT: 1, ItemKind.STATEFUL: 2}


@dataclass(frozen=True)
class WorkItem:
    key: str  # the test id, e.g. `test_contract.py::test_contract[GET /worlds]`
    kind: ItemKind
    cls: str  # the conformance class whose requirements it mostly evaluates
    requirements: tuple[str, ...]
    cost: float  # relative estimate: one contract item = 1
    operation: str | None = None  # the operation label of a contract item
    scenario: ScenarioCheck | None = None
    exclusive: bool = False  # runs alone (see `ScenarioCheck.exclusive`)
    shares_after_writing: bool = False  # alone only until it has written (`ScenarioCheck.shares_after_writing`)

    def __repr__(self) -> str:
        # Stable across processes (a ScenarioCheck's frozenset is not): reports show parameters by repr.
        return f"WorkItem({self.key!r})"

    @property
    def name(self) -> str:
        """The short name shown per item: what the brackets of the key hold, or the test name."""
        tail = self.key.split("::")[-1]
        return tail[tail.index("[") + 1 : -1] if tail.endswith("]") and "[" in tail else tail


@dataclass(frozen=True)
class Plan:
    items: tuple[WorkItem, ...]

    def __iter__(self) -> Iterator[WorkItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def of_kind(self, kind: ItemKind) -> tuple[WorkItem, ...]:
        return tuple(item for item in self.items if item.kind == kind)

    def get(self, key: str) -> WorkItem:
        return next(item for item in self.items if item.key == key)

    @property
    def cost(self) -> float:
        return sum(item.cost for item in self.items)


def scenario_key(spec: ScenarioCheck) -> str:
    return f"test_scenarios.py::test_scenario[{spec.name}]"


def contract_key(label: str) -> str:
    return f"test_contract.py::test_contract[{label}]"


STATEFUL_KEY = "test_stateful.py::test_stateful"
# The usual scenario takes about 0.4 of an operation's contract item (its examples, coverage and
# fuzzing): 50 ms away, with 8 workers, the shared scenarios' mean was 1.3 s, the contract items'
# 3.1 s (medians 1.0 s and 2.3 s). Scenarios far from it declare their own (`check(cost=...)`).
SCENARIO_COST = 0.4


def stateful_cost(operation_items: int) -> float:
    """The stateful item beside one item per operation: a quarter of the depth, one item covering
    all (nightly, 60 s: stateful 12.5 s instead of 2.4 s)."""
    return max(1.0, operation_items / 3)


def build_plan(
    settings: Settings,
    contract: Contract,
    catalog: RequirementCatalog,
    scenarios: Iterable[ScenarioCheck],
) -> Plan:
    """Every work item of the run, in the run's order; a scenario none of whose requirements is
    selected is still planned (its item reports why it did not run)."""
    items: list[WorkItem] = []
    for spec in scenarios:
        classes = [catalog.get(rid).cls for rid in spec.requirements]
        items.append(
            WorkItem(
                key=scenario_key(spec),
                kind=ItemKind.SCENARIO,
                cls=max(set(classes), key=classes.count),
                requirements=spec.requirements,
                cost=spec.cost if spec.cost is not None else SCENARIO_COST,
                scenario=spec,
                exclusive=spec.exclusive,
                shares_after_writing=spec.shares_after_writing,
            )
        )
    if CONTRACT_CLASSES & settings.classes:
        operations = enabled_operations(settings, contract)
        for operation in operations:
            covered = tuple(r.id for r in catalog if r.cls in CONTRACT_CLASSES and r.covers(operation.operation_id))
            items.append(
                WorkItem(
                    key=contract_key(operation.label),
                    kind=ItemKind.CONTRACT,
                    cls="contract",
                    requirements=covered,
                    cost=1.0,
                    operation=operation.label,
                )
            )
        profile = settings.profile
        if operations and "stateful" in profile.phases and profile.stateful_examples > 0:
            items.append(
                WorkItem(
                    key=STATEFUL_KEY,
                    kind=ItemKind.STATEFUL,
                    cls="contract",
                    requirements=tuple(r.id for r in catalog if r.cls in CONTRACT_CLASSES),
                    cost=stateful_cost(len(operations)),
                )
            )
    items.sort(key=lambda item: KIND_ORDER[item.kind])  # stable: the order within a kind is kept
    return Plan(tuple(items))

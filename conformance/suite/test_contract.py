"""Contract tests: one item per enabled operation, every Schemathesis phase of the profile.

The engine (`conformance.runner.executor`) runs each item; this module is its pytest view.
"""

from __future__ import annotations

import pytest

from conformance.plugin import active_plan, play
from conformance.runner.executor import Executor
from conformance.runner.plan import ItemKind, WorkItem

ITEMS = active_plan().of_kind(ItemKind.CONTRACT)

if ITEMS:

    @pytest.mark.parametrize("work", ITEMS, ids=[str(item.operation) for item in ITEMS])
    def test_contract(work: WorkItem, phase2_engine: Executor, request: pytest.FixtureRequest) -> None:
        play(request.node, phase2_engine, work)

else:
    # No operation selected: one item that says so, under the same name.
    def test_contract() -> None:  # type: ignore[misc]
        pytest.skip("no operation to cover: the contract and protocol classes are not selected")

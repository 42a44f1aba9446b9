"""Scenario checks: the semantic, auth, health and telemetry classes, one item per check.

The engine (`conformance.runner.executor`) runs each item; this module is its pytest view.
"""

from __future__ import annotations

import pytest

from conformance.plugin import active_plan, play
from conformance.runner.executor import Executor
from conformance.runner.plan import ItemKind, WorkItem

ITEMS = active_plan().of_kind(ItemKind.SCENARIO)


@pytest.mark.parametrize("work", ITEMS, ids=[item.name for item in ITEMS])
def test_scenario(work: WorkItem, phase2_engine: Executor, request: pytest.FixtureRequest) -> None:
    play(request.node, phase2_engine, work)

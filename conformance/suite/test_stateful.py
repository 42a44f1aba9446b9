"""Stateful sequences over the contract's links (create → get → update → delete, start → stop).

The engine (`conformance.runner.executor`, `runner.st_tests.run_stateful`) runs the item; this
module is its pytest view.
"""

from __future__ import annotations

import pytest

from conformance.plugin import active_plan, active_settings, play
from conformance.runner.executor import Executor
from conformance.runner.plan import ItemKind

ITEMS = active_plan().of_kind(ItemKind.STATEFUL)


def test_stateful(phase2_engine: Executor, request: pytest.FixtureRequest) -> None:
    if not ITEMS:
        profile = active_settings().profile
        if "stateful" not in profile.phases or profile.stateful_examples == 0:
            pytest.skip(f"the {profile.name} profile has no stateful phase")
        pytest.skip("no operation to cover: the contract and protocol classes are not selected")
    play(request.node, phase2_engine, ITEMS[0])

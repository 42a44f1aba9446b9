"""Stateful sequences over the contract's links (create → get → update → delete, start → stop).

The engine (`conformance.runner.executor`, `runner.st_tests.run_stateful`) runs the item; this
module is its pytest view. The plugin's `phase2_work` fixture gives the plan's one stateful item,
or skips saying why there is none.
"""

from __future__ import annotations

import pytest

from conformance.plugin import play
from conformance.runner.executor import Executor
from conformance.runner.plan import ItemKind, WorkItem

ITEM_KIND = ItemKind.STATEFUL


def test_stateful(phase2_work: WorkItem, phase2_engine: Executor, request: pytest.FixtureRequest) -> None:
    play(request.node, phase2_engine, phase2_work)

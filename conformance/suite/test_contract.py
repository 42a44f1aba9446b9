"""Contract tests: one item per enabled operation, every Schemathesis phase of the profile.

The engine (`conformance.runner.executor`) runs each item; this module is its pytest view. The
plugin parametrizes `phase2_work` from the run's plan (`plugin.pytest_generate_tests`).
"""

from __future__ import annotations

import pytest

from conformance.plugin import play
from conformance.runner.executor import Executor
from conformance.runner.plan import ItemKind, WorkItem

ITEM_KIND = ItemKind.CONTRACT


def test_contract(phase2_work: WorkItem, phase2_engine: Executor, request: pytest.FixtureRequest) -> None:
    play(request.node, phase2_engine, phase2_work)

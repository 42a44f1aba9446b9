"""Contract tests: every enabled operation, every Schemathesis phase of the profile."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.plugin import TIME_SHARE_USED, contract_schema
from conformance.runner.judge import OutOfTime
from conformance.runner.session import RunSession

schema = contract_schema()

if schema is not None:

    @schema.parametrize()
    def test_contract(case: Any, phase2_session: RunSession) -> None:
        assert phase2_session.exerciser is not None
        try:
            phase2_session.exerciser.exercise(case)
        except OutOfTime as exhausted:
            # Skipping is the one way to end a Hypothesis test at once; the plugin reports it passed.
            pytest.skip(f"{TIME_SHARE_USED}: {exhausted}")

else:

    def test_contract() -> None:
        pytest.skip("no operation to cover: the contract and protocol classes are not selected")

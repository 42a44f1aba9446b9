"""Contract tests: every enabled operation, every Schemathesis phase of the profile."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.plugin import contract_schema
from conformance.runner.session import RunSession

schema = contract_schema()

if schema is not None:

    @schema.parametrize()
    def test_contract(case: Any, phase2_session: RunSession) -> None:
        assert phase2_session.exerciser is not None
        phase2_session.exerciser.exercise(case)

else:

    def test_contract() -> None:
        pytest.skip("no operation to cover: the contract and protocol classes are not selected")

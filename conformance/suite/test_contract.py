"""Contract tests: every enabled operation, every Schemathesis phase of the profile."""

from __future__ import annotations

from typing import Any

import schemathesis

from conformance.runner.session import RunSession

schema = schemathesis.pytest.from_fixture("phase2_schema")


@schema.parametrize()
def test_contract(case: Any, phase2_session: RunSession) -> None:
    assert phase2_session.exerciser is not None
    phase2_session.exerciser.exercise(case)

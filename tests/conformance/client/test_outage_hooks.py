"""Outage commands: run bounded, their output captured, never handed the run's secrets."""

from __future__ import annotations

import shlex
import sys

import pytest

from conformance.client.outage_hooks import CommandOutage, OutageFailed


def _python(code: str) -> str:
    return shlex.join([sys.executable, "-c", code])


def test_commands_get_the_target_but_no_setting_of_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHASE2_CLIENT_SECRET", "s3cret-of-the-run")
    monkeypatch.setenv("PHASE2_OTHER_TENANT_CLIENT_SECRET", "another-s3cret")
    check = _python(
        "import os, sys; "
        "leaked = [k for k in os.environ if k.startswith('PHASE2_') and k != 'PHASE2_BASE_URL']; "
        "sys.exit(f'leaked {leaked}' if leaked or os.environ['PHASE2_BASE_URL'] != 'http://127.0.0.1:9/v2' else 0)"
    )
    CommandOutage(check, check, "http://127.0.0.1:9/v2").start(10)


def test_a_failing_command_says_why_with_its_output() -> None:
    outage = CommandOutage("true", _python("import sys; print('db host unknown', file=sys.stderr); sys.exit(4)"), "x")
    outage.start(10)
    with pytest.raises(OutageFailed, match=r"--outage-end command exited with code 4: .*\(output: db host unknown\)"):
        outage.end(10)


def test_a_command_that_hangs_is_cut_off() -> None:
    outage = CommandOutage(_python("import time; time.sleep(60)"), "true", "x")
    with pytest.raises(OutageFailed, match="did not finish within 1s"):
        outage.start(1)

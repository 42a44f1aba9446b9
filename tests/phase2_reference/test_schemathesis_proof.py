"""The proof: Schemathesis' own CLI finds nothing wrong with the reference.

`st run openapi/phase2.yaml --checks all --mode all --phases examples,coverage,fuzzing,stateful`
against a real uvicorn server on loopback, with a fixed seed, must exit 0. Authentication and the
few expected-status adjustments live in benchmarks/schemathesis.toml, each with its reason; the
client comes from fixtures/clients.yaml through the environment, as Schemathesis' own `${...}`
placeholders read it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.schemathesis_cli import TEMPLATE, st_env
from phase2_reference.config import Config
from phase2_reference.testing.launcher import running_server
from tests.phase2_reference.conftest import BOTH_FLAGS, REPO

SEED = "20261126"
MAX_EXAMPLES = "20"


@pytest.mark.slow
def test_schemathesis_finds_no_failure(tmp_path: Path) -> None:
    st = Path(sys.executable).with_name("st")
    config = Config(data_dir=tmp_path / "data", feature_flags=BOTH_FLAGS, runtime_step_ms=50, log_level="warning")
    with running_server(config) as base_url:
        result = subprocess.run(
            [
                str(st),
                "--config-file",
                str(TEMPLATE),
                "run",
                str(REPO / "openapi" / "phase2.yaml"),
                "--url",
                base_url,
                "--checks",
                "all",
                "--mode",
                "all",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--seed",
                SEED,
                "--max-examples",
                MAX_EXAMPLES,
                "--generation-database",
                "none",
                "--request-timeout",
                "20",  # an event stream may legitimately stay open for its `wait` (up to 10 s)
                "--no-color",
            ],
            cwd=tmp_path,  # Schemathesis keeps a .schemathesis cache in its working directory
            capture_output=True,
            text=True,
            timeout=300,
            env=st_env(),
        )
    output = result.stdout
    assert result.returncode == 0, output[-20000:] + result.stderr[-5000:]
    assert "Tested: 25" in output
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in output
    # Fuzzing POST /auth/logout revokes the token in use; the dynamic auth logged in again each time.
    assert re.search(r"Re-authenticated \d+ times", output)

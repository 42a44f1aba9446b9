"""The contract passes three independent linters with zero errors (and zero warnings)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "openapi" / "phase2.yaml"
TOOLS = REPO / "tools" / "node_modules" / ".bin"


def _tool(name: str) -> Path:
    path = TOOLS / name
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; .ci/run installs it with `npm ci --prefix tools`")
        pytest.skip(f"{name} is not installed: run `npm ci --prefix tools`")
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    return path


def test_openapi_spec_validator() -> None:
    document, _ = read_from_filename(str(SPEC))
    validate(document)


@pytest.mark.linters
def test_spectral_oas_ruleset() -> None:
    result = subprocess.run(
        [
            str(_tool("spectral")),
            "lint",
            str(SPEC),
            "--ruleset",
            str(REPO / ".spectral.yaml"),
            "--format",
            "text",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No results with a severity of 'error' found!" in result.stdout + result.stderr
    assert "warning" not in result.stdout.lower(), result.stdout


@pytest.mark.linters
def test_redocly_recommended_rules() -> None:
    result = subprocess.run(
        [str(_tool("redocly")), "lint", str(SPEC), "--extends", "recommended", "--format", "stylish"],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Woohoo! Your API description is valid." in output
    assert "warning" not in output.lower().replace("deprecation warning", ""), output

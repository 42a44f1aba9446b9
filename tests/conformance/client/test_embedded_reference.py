"""The embedded reference: a child process on a free loopback port, stopped with its data; a
refusal of its arguments is a usage error with the reference's own reason."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from conformance.client.embedded_reference import ReferenceProcess
from conformance.errors import ConfigError


def test_the_command_carries_every_option() -> None:
    process = ReferenceProcess(
        flags=["beta-preview", "scheduler"],
        faults=["etag-missing", "location-missing"],
        trust_issuer="http://127.0.0.1:1/issuer=http://127.0.0.1:1/jwks.json",
        test_controls=False,
        extra_args=["--rate-limit", "5"],
    )
    command = process.command("/tmp/data")
    assert command[1:5] == ["-m", "phase2_reference", "serve", "--host"]
    assert command[command.index("--host") + 1] == "127.0.0.1" and command[command.index("--port") + 1] == "0"
    assert command[command.index("--flags") + 1] == "beta-preview,scheduler"
    assert [command[i + 1] for i, part in enumerate(command) if part == "--fault"] == [
        "etag-missing",
        "location-missing",
    ]
    assert "--test-controls" not in command and command[-2:] == ["--rate-limit", "5"]


def test_the_suite_s_own_settings_never_reach_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHASE2_CLIENT_SECRET", "the-vendor-s-secret")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=secret")
    environment = ReferenceProcess(otlp_endpoint="http://127.0.0.1:4318")._environment()
    assert "PHASE2_CLIENT_SECRET" not in environment and "OTEL_EXPORTER_OTLP_HEADERS" not in environment
    assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    assert environment["PHASE2_LOG_LEVEL"] == "warning"


def test_a_started_reference_answers_and_is_gone_with_its_data_after_stop(tmp_path: Path) -> None:
    with ReferenceProcess(log_path=tmp_path / "reference.log") as reference:
        assert reference.base_url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{reference.base_url}/healthz", timeout=30).status_code == 200
        data_dir = reference._data_dir
        assert data_dir is not None and os.path.isdir(data_dir)
    assert not os.path.exists(data_dir)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{reference.base_url}/healthz", timeout=10)


def test_arguments_the_reference_refuses_are_a_usage_error_with_its_reason(tmp_path: Path) -> None:
    reference = ReferenceProcess(faults=["no-such-fault"], log_path=tmp_path / "reference.log")
    with pytest.raises(ConfigError, match=r"the embedded reference did not start: .*no-such-fault"):
        reference.start()

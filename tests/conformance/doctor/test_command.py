"""`phase2-conformance doctor` against the reference (all ✓) and against each broken set-up.

Every set-up is a real reference on a loopback port, configured as a deployment would be
(trusting the suite's test issuer, exporting spans to the suite's receiver) with exactly one
thing broken; the doctor must name that thing with a ✗ and its fix.
"""

from __future__ import annotations

import dataclasses
import email.utils
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import httpx
import pytest

from benchmarks.clients import suite_env
from conformance.doctor import diagnose
from conformance.errors import ExitCode
from conformance.settings import load_settings
from phase2_reference.config import Config, TrustedIssuer
from phase2_reference.testing.launcher import ServerTLS, serving
from tests.conformance.client.test_mutual_tls import Pki, make_pki
from tests.conftest import _clean_env

CLIENTS = suite_env()  # every client of fixtures/clients.yaml, as a vendor passes its own
OUTAGE_ONLY = {"P2-HLT-003", "P2-PRO-012"}  # what needs a way to take a component away


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass
class Diagnosis:
    exit_code: ExitCode
    lines: list[str]

    def line(self, name: str) -> str:
        found = [line for line in self.lines if line[2:].startswith(f"{name}:")]
        assert found, f"no {name!r} line in:\n" + "\n".join(self.lines)
        return found[0]

    def failed(self) -> list[str]:
        return [line for line in self.lines if line.startswith("✗")]


@dataclasses.dataclass
class Deployment:
    """A reference configured like a deployment the suite can fully test, and the doctor's settings for it."""

    issuer_port: int
    otlp_port: int

    def config(self, **overrides: Any) -> Config:
        issuer = f"http://127.0.0.1:{self.issuer_port}"
        values: dict[str, Any] = {
            "data_dir": None,
            "log_level": "error",
            "trusted_issuers": (TrustedIssuer(issuer, issuer + "/jwks.json"),),
            "otlp_endpoint": f"http://127.0.0.1:{self.otlp_port}",
        }
        return Config(**{**values, **overrides})

    def diagnose(self, base_url: str, *flags: str, **cli: Any) -> Diagnosis:
        values = {
            "base_url": base_url,
            "test_issuer_trusted": True,
            "test_issuer_port": self.issuer_port,
            "otlp_receiver_port": self.otlp_port,
            **cli,
        }
        settings = load_settings(values, env=CLIENTS)
        lines: list[str] = []
        code = diagnose(settings, out=lines.append)
        return Diagnosis(code, lines)


@pytest.fixture
def deployment() -> Deployment:
    return Deployment(free_port(), free_port())


def test_doctor_against_the_reference_is_all_ticks(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "conformance", "doctor", "--reference"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_clean_env(None),
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()[1:]
    assert lines and all(line.startswith("✓ ") for line in lines), completed.stdout
    for name in ("DNS", "TCP", "base path", "clock", "auth metadata", "token", "readyz", "metrics", "flags"):
        assert any(line.startswith(f"✓ {name}:") for line in lines), name
    for name in ("test issuer", "spans", "other-tenant client", "read-only client", "rate limit"):
        assert any(line.startswith(f"✓ {name}:") for line in lines), name
    assert lines[-1].startswith("✓ coverage: a full run can verify all")
    for name, secret in CLIENTS.items():
        if name.endswith("_SECRET"):
            assert secret not in completed.stdout
    assert not list(tmp_path.iterdir()), "a diagnosis leaves no report behind"


def test_a_well_configured_deployment_lacks_only_a_way_to_cause_an_outage(deployment: Deployment) -> None:
    with serving(deployment.config()) as running:
        result = deployment.diagnose(running.base_url)
    assert result.exit_code == ExitCode.NONCONFORMANCE
    assert result.failed() == [result.line("outage"), result.line("coverage")], "\n".join(result.lines)
    assert "--outage-start CMD and --outage-end CMD" in result.line("outage")
    coverage = result.line("coverage")
    assert "2 of" in coverage and all(rid in coverage for rid in OUTAGE_ONLY)
    secret = "✓ setting: PHASE2_CLIENT_SECRET = *** (set) [from environment PHASE2_CLIENT_SECRET]"
    assert secret in result.lines


def test_outage_commands_complete_a_deployments_coverage(deployment: Deployment) -> None:
    with serving(deployment.config()) as running:
        result = deployment.diagnose(running.base_url, outage_start="true", outage_end="true")
    assert result.exit_code == ExitCode.CONFORMS, "\n".join(result.lines)
    assert result.line("outage").startswith("✓ outage: --outage-start 'true'")
    assert result.line("coverage").startswith("✓ coverage: a full run can verify all")


def test_wrong_base_path_is_fatal_and_names_the_right_one(deployment: Deployment) -> None:
    with serving(deployment.config()) as running:
        result = deployment.diagnose(running.origin + "/api")
    assert result.exit_code == ExitCode.TARGET
    line = result.line("base path")
    assert line.startswith("✗") and "answered 404" in line
    assert f"fix: use --base-url {running.origin}/v2" in line
    assert "the rest is not checked" in result.lines[-1]


def test_unreachable_port_is_fatal() -> None:
    port = free_port()
    settings = load_settings({"base_url": f"http://127.0.0.1:{port}/v2"}, env=CLIENTS)
    lines: list[str] = []
    assert diagnose(settings, out=lines.append) == ExitCode.TARGET
    assert any(line.startswith("✗ TCP:") and "check the port" in line for line in lines), lines


@contextmanager
def date_shifting_proxy(upstream: str, shift: float) -> Iterator[str]:
    """A loopback proxy to `upstream` whose answers carry a Date `shift` seconds off."""

    class Proxy(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            answer = httpx.request(self.command, upstream + self.path, headers=headers, content=body)
            self.send_response_only(answer.status_code)
            for name, value in answer.headers.items():
                if name.lower() not in ("date", "content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Date", email.utils.formatdate(time.time() + shift, usegmt=True))
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_POST = _forward

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_clock_skew_is_named_with_its_fix(deployment: Deployment) -> None:
    with serving(deployment.config()) as running, date_shifting_proxy(running.origin, -2 * 3600) as proxy:
        result = deployment.diagnose(proxy + "/v2", auth_provider=running.origin)
    line = result.line("clock")
    # Date has one-second resolution and the exchange takes time: about 7200 s, not exactly.
    skew = re.search(r"Date is (\d+)s behind", line)
    assert line.startswith("✗") and skew and abs(int(skew.group(1)) - 7200) <= 60 and "NTP" in line, line
    assert result.exit_code == ExitCode.NONCONFORMANCE
    assert "P2-AUTH-003" in result.line("coverage")


def test_test_issuer_not_trusted(deployment: Deployment) -> None:
    with serving(deployment.config(trusted_issuers=())) as running:
        result = deployment.diagnose(running.base_url)
    line = result.line("test issuer")
    assert line.startswith("✗") and "refused (GET /engine answered 401)" in line, line
    assert "--trust-issuer ISSUER=JWKS" in line and f"http://127.0.0.1:{deployment.issuer_port}/jwks.json" in line
    assert result.exit_code == ExitCode.NONCONFORMANCE
    assert all(f"P2-AUTH-{n:03d}" in result.line("coverage") for n in range(3, 11))


def test_a_trusted_issuer_the_run_is_not_told_about(deployment: Deployment) -> None:
    with serving(deployment.config()) as running:
        result = deployment.diagnose(running.base_url, test_issuer_trusted=False)
    line = result.line("test issuer")
    assert line.startswith("✗") and line.endswith("fix: pass --test-issuer-trusted"), line


def test_no_spans_reach_the_receiver(deployment: Deployment) -> None:
    with serving(deployment.config(otlp_endpoint=None)) as running:
        result = deployment.diagnose(running.base_url)
    line = result.line("spans")
    assert line.startswith("✗") and "arrived within" in line, line
    assert f"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{deployment.otlp_port}" in line
    assert "P2-TEL-007" in result.line("coverage")


def test_flags_out_of_sync(deployment: Deployment) -> None:
    with serving(deployment.config(feature_flags=frozenset({"world-preview"}))) as running:
        result = deployment.diagnose(running.base_url)
        told = deployment.diagnose(running.base_url, feature_flags="world-preview")
    line = result.line("flags")
    assert line.startswith("✗") and "fix: pass --flags world-preview (PHASE2_FEATURE_FLAGS=world-preview)" in line
    assert told.line("flags").startswith("✓")


def test_rate_limits_show_as_429(deployment: Deployment) -> None:
    with serving(deployment.config(rate_limit=1.0)) as running:
        result = deployment.diagnose(running.base_url)
    line = result.line("rate limit")
    assert line.startswith("✗") and "429" in line and "Retry-After 1" in line, line
    assert result.exit_code == ExitCode.NONCONFORMANCE


def test_missing_clients_are_named() -> None:
    deployment = Deployment(free_port(), free_port())
    with serving(deployment.config()) as running:
        settings = load_settings(
            {
                "base_url": running.base_url,
                "test_issuer_trusted": True,
                "test_issuer_port": deployment.issuer_port,
                "otlp_receiver_port": deployment.otlp_port,
            },
            env={k: v for k, v in CLIENTS.items() if k.startswith("PHASE2_CLIENT")},
        )
        lines: list[str] = []
        diagnose(settings, out=lines.append)
    other = next(line for line in lines if line.startswith("✗ other-tenant client:"))
    assert "set PHASE2_OTHER_TENANT_CLIENT_ID and PHASE2_OTHER_TENANT_CLIENT_SECRET" in other
    assert any(line.startswith("✗ read-only client:") for line in lines)


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), "phase2 doctor test CA")


def test_an_untrusted_certificate_is_fatal_and_names_tls_ca(deployment: Deployment, self_signed: Pki) -> None:
    tls = ServerTLS(self_signed.server_cert, self_signed.server_key, self_signed.ca)
    with serving(deployment.config(), tls) as running:
        result = deployment.diagnose(running.base_url)
        trusted = deployment.diagnose(
            running.base_url,
            tls_ca_path=str(self_signed.ca),
            tls_cert_path=str(self_signed.client_cert),
            tls_key_path=str(self_signed.client_key),
        )
    line = result.line("TLS")
    assert result.exit_code == ExitCode.TARGET
    assert line.startswith("✗") and "not trusted" in line and "--tls-ca (PHASE2_TLS_CA_PATH)" in line, line
    # Trusted now, but the test certificate lives an hour: a warning to renew it, not a fatal line.
    tls_line = trusted.line("TLS")
    assert tls_line.startswith("✗") and "(in 0 days)" in tls_line and "fix: renew" in tls_line, tls_line
    assert trusted.line("base path").startswith("✓") and trusted.line("token").startswith("✓")

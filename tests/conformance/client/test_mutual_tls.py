"""PHASE2_TLS_CERT_PATH for real: the reference behind uvicorn's TLS, which requires a client certificate.

Certificates are minted here (a CA, a server certificate for 127.0.0.1, a client certificate); the
suite must reach the deployment, get tokens from its token endpoint and run contract and scenario
checks over mutual TLS, and must end with exit 3 in one line without the client certificate.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from benchmarks.clients import admin
from phase2_reference.config import Config
from phase2_reference.testing.launcher import ServerTLS, serving
from tests.conftest import _clean_env


@dataclasses.dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    usage: x509.ObjectIdentifier | None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        assert usage is not None
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if usage == ExtendedKeyUsageOID.SERVER_AUTH:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
            )
    return builder.sign(issuer_key, hashes.SHA256())


def make_pki(directory: Path, ca_name: str = "phase2 test CA") -> Pki:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files in `directory`."""
    ca_key = _key()
    ca = _certificate(ca_name, ca_key, None, ca_key, None)
    server_key, client_key = _key(), _key()
    server = _certificate("127.0.0.1", server_key, ca, ca_key, ExtendedKeyUsageOID.SERVER_AUTH)
    client = _certificate("conformance client", client_key, ca, ca_key, ExtendedKeyUsageOID.CLIENT_AUTH)
    pem = serialization.Encoding.PEM
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "server.pem").write_bytes(server.public_bytes(pem))
    (directory / "client.pem").write_bytes(client.public_bytes(pem))
    return Pki(
        ca=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=_write_key(server_key, directory / "server-key.pem"),
        client_cert=directory / "client.pem",
        client_key=_write_key(client_key, directory / "client-key.pem"),
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_reference(pki: Pki) -> Iterator[str]:
    """The reference over HTTPS on a free loopback port, refusing clients without a certificate."""
    config = Config(data_dir=None, runtime_step_ms=20, log_level="error")
    with serving(config, ServerTLS(pki.server_cert, pki.server_key, pki.ca)) as running:
        yield running.base_url


def run(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", "run", "-q", "--report-dir", str(tmp_path / "report"), *args],
        env=_clean_env({**admin().suite_env(), **env}),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_run_over_mutual_tls(tmp_path: Path, pki: Pki, tls_reference: str) -> None:
    completed = run(
        tmp_path,
        "--profile",
        "quick",
        "--classes",
        "contract,health",
        "--operation",
        "getLiveness",
        "--operation",
        "listWorlds",
        "--operation",
        "createWorld",
        "--tls-key",
        str(pki.client_key),
        "--tls-ca",
        str(pki.ca),
        env={"PHASE2_BASE_URL": tls_reference, "PHASE2_TLS_CERT_PATH": str(pki.client_cert)},
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    assert "Verdict: PASS" in completed.stdout


def test_without_the_client_certificate_the_run_ends_in_one_line(tmp_path: Path, pki: Pki, tls_reference: str) -> None:
    completed = run(tmp_path, "--profile", "quick", "--tls-ca", str(pki.ca), env={"PHASE2_BASE_URL": tls_reference})
    assert completed.returncode == 3, completed.stdout + completed.stderr
    errors = [line for line in completed.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "error:" in errors[0], completed.stderr
    assert "Traceback" not in completed.stdout + completed.stderr

"""`phase2-conformance token`: a pasted reproduction works. The token alone goes to stdout; real curl,
given it in `$PHASE2_TOKEN`, gets the failure's status from a reference with the run's fault, and a
forged token of the test issuer is refused or accepted as the failure says once the target trusts
the issuer as the command advises."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest

from conformance.client.embedded_reference import ReferenceProcess
from conformance.contract.files import fixtures_dir
from conformance.peers.token_issuer import KID
from tests.conftest import SuiteRun, _clean_env

CLIENT = {"PHASE2_CLIENT_ID": "tenant-a-admin", "PHASE2_CLIENT_SECRET": "test-only-secret-tenant-a-admin-7f3c"}
pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")


def token(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", "token", *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        env=_clean_env(env),
    )


def curl_status(command: str, access_token: str, cwd: Path) -> int:
    completed = subprocess.run(
        ["bash", "-c", f"{command} -o /dev/null -w '%{{http_code}}'"],
        cwd=cwd,
        env={**os.environ, "PHASE2_TOKEN": access_token},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return int(completed.stdout)


def test_the_pasted_curl_of_a_failure_gets_its_status(tmp_path: Path, run_suite: Callable[..., SuiteRun]) -> None:
    with ReferenceProcess(faults=["malformed-json-500"]) as reference:
        target = ("--base-url", reference.base_url)
        run = run_suite(
            *target, "--profile", "quick", "--classes", "protocol", "--requirement", "P2-PRO-013", env=CLIENT
        )
        assert run.exit_code == 1, run.stdout[-3000:] + run.stderr[-2000:]
        failures = [f for f in run.summary["requirements"]["P2-PRO-013"]["failures"] if f["curl"]]
        # createWorld's bodies hold no secret (a body that does is masked, so its command sends `***`).
        with_token = [
            f for f in failures if f["steps"][-1]["credential"] == "role:primary" and f["operation"] == "POST /worlds"
        ]
        folded = [f for f in with_token if f["steps"][-1]["request_body_file"]]
        assert with_token and folded, [f["curl"] for f in failures]

        printed = token(*target, env=CLIENT)
        assert printed.returncode == 0, printed.stderr
        access_token = printed.stdout.removesuffix("\n")
        assert "\n" not in access_token and access_token.count(".") == 2  # the token alone, on one line
        assert jwt.decode(access_token, options={"verify_signature": False})["client_id"] == CLIENT["PHASE2_CLIENT_ID"]

        for failure in (with_token[0], folded[0]):
            assert "***" not in failure["curl"].split("--data-binary")[0]
            assert curl_status(failure["curl"], access_token, tmp_path) == failure["steps"][-1]["status"] == 500
        # The token matters: without one the same command is refused before the body is read.
        assert curl_status(folded[0]["curl"], "", tmp_path) == 401


def test_a_forged_token_reproduces_once_the_target_trusts_the_issuer(tmp_path: Path) -> None:
    printed = token("--kind", "expired", "--reference", "--test-issuer-port", "0")
    assert printed.returncode == 0, printed.stderr
    forged = printed.stdout.removesuffix("\n")
    header, claims = jwt.get_unverified_header(forged), jwt.decode(forged, options={"verify_signature": False})
    assert header["kid"] == KID and claims["exp"] < time.time()
    assert "--trust-issuer" in printed.stderr and "--test-issuer-port" in printed.stderr
    jwks = fixtures_dir() / "keys" / "test-issuer-jwks.json"
    command = 'curl -sS -H "Authorization: Bearer $PHASE2_TOKEN" '
    for fault, expected in ((["accept-expired"], 200), ([], 401)):
        with ReferenceProcess(faults=fault, trust_issuer=f"{claims['iss']}={jwks}") as reference:
            assert curl_status(command + reference.base_url + "/worlds", forged, tmp_path) == expected


def test_junk_kinds_need_no_target() -> None:
    printed = token("--kind", "junk-opaque")
    assert printed.returncode == 0 and printed.stdout.startswith("p2c-not-a-jwt-") and printed.stderr == ""

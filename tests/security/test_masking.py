"""Every spelling of every secret is masked in everything the run writes.

A deployment that has seen the client's Basic credential and the tokens its provider issued
reflects them, in every spelling the issue names, in its health answers (body and headers). None
of those spellings may reach stdout, stderr, a report file (summary.json, junit.xml, summary.md,
report.html, Allure results and attachments, the manifest, the logs) or the bundle.
"""

from __future__ import annotations

import json
from pathlib import Path

from conformance.client.secrets import MASK, Redactor
from tests.security.hostile import (
    CLIENT_ID,
    CLIENT_SECRET,
    HostileDeployment,
    Reply,
    Request,
    bundle_texts,
    deployment,
    every_spelling,
    problem,
    run_against,
    run_cli,
    spellings,
)


def reflect_secrets(hostile: HostileDeployment, request: Request) -> Reply | None:
    """Health answers carry every secret seen so far, in every spelling, in the body and a header."""
    if not request.path.startswith("/v2/health") or not hostile.tokens:
        return None
    echoed = every_spelling(hostile.secrets, CLIENT_ID)
    return problem(500, f"debug dump:\n{echoed}", **{"X-Debug-Echo": echoed.replace("\n", " ")})


def leaks(texts: dict[str, str], secrets: set[str]) -> list[str]:
    found = []
    for secret in secrets:
        for name, form in spellings(secret, CLIENT_ID).items():
            found += [f"{name} of {secret[:12]}… in {where}" for where, text in texts.items() if form in text]
    return found


def test_every_spelling_of_every_secret_is_masked_in_streams_reports_and_bundle(tmp_path: Path) -> None:
    with deployment(reflect_secrets) as hostile:
        run = run_against(hostile, tmp_path, "--classes", "health")
        secrets = hostile.secrets
    assert CLIENT_SECRET in secrets and len(secrets) >= 2, "the deployment saw the secret and a token"
    assert run.exit_code == 1, run.stderr
    bundled = run_cli(["bundle", str(run.report_dir), "-o", str(tmp_path / "bundle.tar.gz")], tmp_path, report=False)
    assert bundled.exit_code == 0, bundled.stderr
    written = {
        "stdout": run.stdout,
        "stderr": run.stderr,
        **run.report_texts(),
        **{f"bundle:{name}": text for name, text in bundle_texts(tmp_path / "bundle.tar.gz").items()},
    }
    for name in ("summary.json", "junit.xml", "summary.md", "report.html", "manifest.json"):
        assert name in written, name
    assert any(name.startswith("allure-results/") for name in written)
    assert leaks(written, secrets) == []
    # The reflection did reach the reports, masked: the test would see a leak.
    summary = json.dumps(run.summary)
    assert "debug dump" in summary and MASK in summary


def echo_secret_in_error(hostile: HostileDeployment, request: Request) -> Reply | None:
    if not request.path.startswith("/oauth2/token"):
        return None
    echoed = every_spelling(hostile.client_secrets, CLIENT_ID).replace("\n", " ")
    body = json.dumps({"error": f"invalid_client {echoed}", "error_description": echoed}).encode()
    return Reply(401, body, [("Content-Type", "application/json"), ("WWW-Authenticate", f"Basic {echoed}")])


def test_a_token_endpoint_echoing_the_secret_in_its_error_leaks_nothing(tmp_path: Path) -> None:
    with deployment(echo_secret_in_error) as hostile:
        run = run_against(hostile, tmp_path, "--classes", "health")
        secrets = hostile.client_secrets
    assert secrets == {CLIENT_SECRET}
    assert run.exit_code == 3, run.stderr
    error_lines = run.stderr.strip().splitlines()
    assert len(error_lines) == 1 and "token endpoint refused" in error_lines[0], run.stderr
    assert MASK in error_lines[0], "the echo reached the error line, masked"
    assert leaks({"stdout": run.stdout, "stderr": run.stderr, **run.report_texts()}, secrets) == []


def test_the_redactor_masks_each_spelling_of_a_secret_with_reserved_characters() -> None:
    secret = "s3cr3t+/=v@lue with space~&<>"
    redactor = Redactor()
    redactor.register_client("client-7", secret)
    for name, form in spellings(secret, "client-7").items():
        masked = redactor.text(f"before {form} after")
        assert form not in masked, name
        assert masked.startswith("before ") and masked.endswith(" after"), (name, masked)


def test_the_redactor_masks_base64_of_a_secret_at_any_alignment() -> None:
    import base64

    secret = "another-secret-value-42"
    redactor = Redactor([secret])
    for prefix in (b"", b"x", b"xy", b"xyz"):
        encoded = base64.b64encode(prefix + secret.encode() + b"-trailer").decode()
        masked = redactor.text(encoded)
        assert MASK in masked, prefix
        # What is left is no more than the encoded prefix and trailer (and a group at each seam).
        assert len(masked.replace(MASK, "")) <= 4 * (len(prefix) + 2) // 3 + 4 * 3 + 8, masked


def test_text_that_is_no_secret_is_left_alone() -> None:
    redactor = Redactor(["another-secret-value-42"])
    text = "GET /v2/worlds?limit=10 answered 200 with {'items': []}"
    assert redactor.text(text) == text


def test_the_suites_own_log_lines_are_masked_at_the_source() -> None:
    import io
    import logging

    from conformance.client import tokens as auth  # noqa: F401 - its module logger exists, as in a run
    from conformance.runner.session import RunSession
    from conformance.settings import load_settings

    settings = load_settings(
        {"base_url": "http://127.0.0.1:9/v2"},
        env={"PHASE2_CLIENT_ID": CLIENT_ID, "PHASE2_CLIENT_SECRET": CLIENT_SECRET},
    )
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    logging.getLogger().addHandler(handler)
    session = RunSession(settings)
    try:
        session._mask_logs()
        session.redactor.register("a-token-obtained-later")
        for form in spellings(CLIENT_SECRET, CLIENT_ID).values():
            logging.getLogger("conformance.auth").warning("provider said %s", form)
        logging.getLogger("conformance.auth").warning("token %s", "a-token-obtained-later")
    finally:
        session.close()
        logging.getLogger().removeHandler(handler)
    logged = captured.getvalue()
    assert logged.count(MASK) == len(spellings(CLIENT_SECRET, CLIENT_ID)) + 1, logged
    assert leaks({"log": logged}, {CLIENT_SECRET, "a-token-obtained-later"}) == []

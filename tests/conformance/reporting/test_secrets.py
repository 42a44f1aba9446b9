"""No credential in any output: console, logs, every report format, allure-results, the bundle.

Two real runs against the reference — a clean one, and one whose faults make failures with
exchanges (token responses marked cacheable: the failing exchange is the token endpoint's, with
the client secret in the request and tokens in the response) — then every file they wrote, the
bundle's contents after extraction, and every stdout and stderr are searched.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.conformance.reporting.builders import client_secrets
from tests.conftest import SuiteRun, _clean_env

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
BEARER = re.compile(r"(?i)\bbearer\s+(?!\*\*\*)[A-Za-z0-9._~+/=-]{16,}")  # "Bearer scheme" is prose
# A reproduction's `Authorization: Bearer $PHASE2_TOKEN` names the shell variable, not a token.
AUTHORIZATION = re.compile(
    r"(?i)authorization\\?[\"']?\s*[:=]\s*\\?[\"']?(?!\*\*\*)(?!Bearer \$PHASE2_TOKEN\b)(?!\\?[\"']?\s*$)[^\s\"'\\,}]+"
)
COOKIE = re.compile(r"(?i)\b(?:set-)?cookie\\?[\"']?\s*[:=]\s*\\?[\"']?(?!\*\*\*)[A-Za-z0-9_-]+=")
TOKEN_FIELD = re.compile(
    r"(?i)\\?[\"']?(?:access_token|refresh_token|id_token|client_secret)\\?[\"']?\s*[:=]\s*\\?[\"']?(?!\*\*\*)[A-Za-z0-9._~+/-]{6,}"
)


def leaks(text: str, secrets: list[str], *, published: bool = False) -> list[str]:
    """What in `text` looks like a credential; `published` text (the contract, whose examples are
    token-shaped on purpose) is searched for the real client secrets only."""
    found = [f"client secret {s[:12]}…" for s in secrets if s in text]
    if published:
        return found
    for name, pattern in (
        ("JWT", JWT),
        ("bearer token", BEARER),
        ("Authorization header", AUTHORIZATION),
        ("cookie", COOKIE),
        ("token field", TOKEN_FIELD),
    ):
        found += [f"{name}: {m.group()[:60]!r}" for m in pattern.finditer(text)]
    return found


def files_under(directory: Path) -> Iterator[Path]:
    yield from (p for p in sorted(directory.rglob("*")) if p.is_file())


def bundle(report_dir: Path, output: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", "bundle", str(report_dir), "-o", str(output)],
        capture_output=True,
        text=True,
        timeout=300,
        env=_clean_env(None),
    )


def test_detector_finds_what_it_must() -> None:
    secret = client_secrets()[0]
    samples = {
        f"x {secret} y": "client secret",
        "Authorization: Bearer abc.def.ghi-jkl-mno": "bearer token",
        '"authorization": "Basic dXNlcjpwYXNz"': "Authorization header",
        "Cookie: session=abc": "cookie",
        '{"access_token": "opaque-token-value"}': "token field",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig": "JWT",
    }
    for sample, kind in samples.items():
        assert any(kind in leak for leak in leaks(sample, [secret])), sample
    clean = 'Authorization: ***\nCookie: ***\n"access_token": "***"\ncurl -H \'Authorization: ***\''
    assert leaks(clean, [secret]) == []
    assert leaks('curl -H "Authorization: Bearer $PHASE2_TOKEN" https://api.example/v2/worlds', [secret]) == []
    assert leaks("Authorization: Bearer $PHASE2_TOKENS-are-not-the-variable", [secret]) != []


def test_no_secret_in_any_output(tmp_path: Path, run_suite: Callable[..., SuiteRun]) -> None:
    secrets = client_secrets()
    history = tmp_path / "history"
    clean = run_suite("--reference", "--profile", "quick", "--history-dir", str(history), "--log-level", "debug")
    broken = run_suite(
        "--reference",
        "--profile",
        "quick",
        "--history-dir",
        str(history),
        "--log-level",
        "debug",
        "--reference-fault",
        "token-cacheable",
        "--reference-fault",
        "plain-text-errors",
    )
    outputs: dict[str, str] = {}
    for name, run in (("clean", clean), ("broken", broken)):
        assert run.exit_code in (0, 1), run.stderr[-2000:]
        outputs[f"{name} stdout"] = run.stdout
        outputs[f"{name} stderr"] = run.stderr
    # The faulty run must really have failures carrying exchanges, or the scan proves little.
    failures = [f for r in broken.summary["requirements"].values() for f in r["failures"]]
    assert any(f["exchange"] and f["curl"] for f in failures), (
        broken.summary["verdict"],
        broken.summary["errors"][:5],
    )
    assert broken.status("P2-AUTH-014") == "failed"
    token_failure = next(f for f in broken.summary["requirements"]["P2-AUTH-014"]["failures"] if f["exchange"])
    assert "***" in (token_failure["exchange"]["response_body"] or "") + (
        token_failure["exchange"]["request_body"] or ""
    )

    extracted = tmp_path / "extracted"
    for name, run in (("clean", clean), ("broken", broken)):
        archive = tmp_path / "bundles" / f"{name}.tar.gz"
        completed = bundle(run.report_dir, archive)
        assert completed.returncode == 0, completed.stderr
        outputs[f"{name} bundle stdout"] = completed.stdout
        outputs[f"{name} bundle stderr"] = completed.stderr
        with tarfile.open(archive) as opened:
            opened.extractall(extracted / name, filter="data")

    scanned = 0
    found: list[str] = []
    for label, text in outputs.items():
        found += [f"{label}: {leak}" for leak in leaks(text, secrets)]
    for path in files_under(tmp_path):
        if path.suffixes[-2:] == [".tar", ".gz"]:
            continue  # compressed; its contents are scanned in extracted/
        text = path.read_bytes().decode("utf-8", errors="replace")
        scanned += 1
        published = path.parent.name == "contract" and path.name in ("phase2.yaml", "requirements.yaml")
        found += [f"{path.relative_to(tmp_path)}: {leak}" for leak in leaks(text, secrets, published=published)]
    assert not found, "\n".join(found[:80])
    # Every format was there to be scanned, in the report dirs and inside the bundles.
    names = {p.name for p in files_under(tmp_path)}
    assert {"summary.json", "junit.xml", "summary.md", "report.html", "manifest.json", "SHA256SUMS"} <= names
    assert {"environment.properties", "categories.json", "reference.log"} <= names
    assert any(name.endswith("-attachment.txt") for name in names)
    assert len(list((history / "runs").glob("*.json"))) == 2
    assert scanned > 100

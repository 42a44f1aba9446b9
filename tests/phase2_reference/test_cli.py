"""`python -m phase2_reference serve` as a real process: arguments, the listening line, signals,
durability across restarts and SIGKILL, and the JSON logs it writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from phase2_reference.cli import main
from tests.phase2_reference.conftest import CLIENTS, REPO

SECRETS = [secret for _, secret in CLIENTS.values()]


@dataclass
class Served:
    process: subprocess.Popen[str]
    base_url: str
    stderr: IO[str]

    def login(self, who: str = "a") -> dict[str, Any]:
        client_id, secret = CLIENTS[who]
        response = httpx.post(f"{self.base_url}/auth/login", json={"client_id": client_id, "client_secret": secret})
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens


def environment(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PHASE2_", "OTEL_"))}
    env.update(extra)
    return env


@contextmanager
def serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    stderr = (tmp_path / f"stderr-{len(list(tmp_path.glob('stderr-*')))}.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "phase2_reference", "serve", "--port", "0", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=env or environment(),
    )
    try:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())
        assert first["event"] == "listening"
        assert first["base_url"] == first["url"] + "/v2"
        yield Served(process, first["base_url"], stderr)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        stderr.close()


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "phase2_reference", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        env=environment(),
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--flags", "world-preview,nope"], "unknown feature flag nope"),
        (["serve", "--fault", "not-a-fault"], "unknown fault 'not-a-fault'"),
        (["serve", "--clients", "missing.yaml"], "cannot read clients file"),
        (["serve", "--trust-issuer", "no-equals-sign"], "ISSUER=JWKS_URL_OR_FILE"),
        (["serve", "--trust-issuer", "https://x=missing.json"], "does not exist"),
        (["serve", "--port", "eighty"], "invalid int value"),
        (["serve", "--in-memory", "--data-dir", "x"], "not allowed with argument"),
        (["serve", "--seed", "missing.yaml"], "cannot read seed file"),
        (["serve", "--token-ttl", "0"], "--token-ttl"),
        (["launch"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert exit_code(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert message in lines[0]
    assert not list(tmp_path.iterdir()), "bad arguments created nothing"


def exit_code(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_a_bad_clients_file_and_bad_environment_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clients.yaml").write_text("clients: [{client_id: x}]\n")
    assert exit_code(["serve", "--clients", "clients.yaml"]) == 2
    assert "entry 0 needs" in capsys.readouterr().err
    monkeypatch.setenv("PHASE2_FEATURE_FLAGS", "bogus-flag")
    assert exit_code(["serve", "--in-memory"]) == 2
    assert "unknown feature flag bogus-flag" in capsys.readouterr().err
    monkeypatch.setenv("PHASE2_FEATURE_FLAGS", "")
    monkeypatch.setenv("PHASE2_LOG_LEVEL", "chatty")
    assert exit_code(["serve", "--in-memory"]) == 2
    assert "--log-level" in capsys.readouterr().err


def test_the_module_itself_exits_2_without_a_traceback(tmp_path: Path) -> None:
    result = run("serve", "--fault", "not-a-fault", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("phase2_reference: error: unknown fault 'not-a-fault'; ")


def test_an_unknown_fault_is_refused_at_once_with_the_closest_name(tmp_path: Path) -> None:
    result = run("serve", "--fault", "health-cachable", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "phase2_reference: error: unknown fault 'health-cachable'; did you mean health-cacheable?"
    )


def test_serves_until_sigterm_with_env_fallbacks(tmp_path: Path) -> None:
    env = environment(PHASE2_FEATURE_FLAGS="engine-v2", PHASE2_LOG_LEVEL="warning")
    with serve(tmp_path, "--in-memory", env=env) as served:
        token = served.login()["access_token"]
        engine = httpx.get(f"{served.base_url}/engine", headers={"Authorization": f"Bearer {token}"}).json()
        assert engine["feature_flags"] == ["engine-v2"]
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=10) == 0
        served.stderr.seek(0)
        logged = [json.loads(line) for line in served.stderr if line.strip()]
        assert all(entry["level"] in ("warning", "error", "critical") for entry in logged)
    assert not (tmp_path / ".phase2-reference").exists()


def test_the_default_data_dir_and_restart_survival(tmp_path: Path) -> None:
    issuer = "http://phase2-reference.test"
    with serve(tmp_path, "--issuer", issuer) as served:
        tokens = served.login()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        created = httpx.post(f"{served.base_url}/worlds", json={"name": "survivor"}, headers=headers)
        assert created.status_code == 201
        served.process.send_signal(signal.SIGINT)
        assert served.process.wait(timeout=10) == 0
    data_dir = tmp_path / ".phase2-reference"
    assert (data_dir / "phase2.sqlite3").exists()
    assert (data_dir / "signing-key.pem").stat().st_mode & 0o777 == 0o600
    with serve(tmp_path, "--issuer", issuer) as served:
        # Same key and issuer: the token from before the restart is still good, and so is the refresh token.
        world = httpx.get(f"{served.base_url}/worlds/{created.json()['id']}", headers=headers)
        assert world.status_code == 200
        assert world.json() == created.json()
        refreshed = httpx.post(f"{served.base_url}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 200


def test_nothing_acknowledged_is_lost_on_sigkill(tmp_path: Path) -> None:
    issuer = "http://phase2-reference.test"
    data_dir = tmp_path / "data"
    with serve(tmp_path, "--data-dir", str(data_dir), "--issuer", issuer, "--log-level", "error") as served:
        token = served.login()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=served.base_url, headers=headers) as client:
            ids = [client.post("/worlds", json={"name": f"kept-{index}"}).json()["id"] for index in range(40)]
            logout = client.post("/auth/logout")
            assert logout.status_code == 204
        served.process.send_signal(signal.SIGKILL)
        served.process.wait(timeout=10)
    with serve(tmp_path, "--data-dir", str(data_dir), "--issuer", issuer, "--log-level", "error") as served:
        # The logout was acknowledged, so the revocation survived too.
        assert httpx.get(f"{served.base_url}/worlds", headers=headers).status_code == 401
        fresh = {"Authorization": f"Bearer {served.login()['access_token']}"}
        listed = httpx.get(f"{served.base_url}/worlds", params={"limit": 100}, headers=fresh).json()["items"]
        assert [world["id"] for world in listed] == ids
        events = httpx.get(f"{served.base_url}/events", params={"limit": 100}, headers=fresh).json()["items"]
        assert [event["type"] for event in events] == ["world.created"] * 40


def test_runtime_transitions_resume_after_a_restart(tmp_path: Path) -> None:
    issuer = "http://phase2-reference.test"
    data_dir = str(tmp_path / "data")
    args = ("--data-dir", data_dir, "--issuer", issuer, "--runtime-step-ms", "1500", "--log-level", "error")
    with serve(tmp_path, *args) as served:
        headers = {"Authorization": f"Bearer {served.login()['access_token']}"}
        world = httpx.post(f"{served.base_url}/worlds", json={"name": "resumed"}, headers=headers).json()
        runtime = httpx.post(
            f"{served.base_url}/runtimes",
            json={"world_id": world["id"], "plugin": "physics-sim"},
            headers=headers,
        ).json()
        assert runtime["status"] == "pending"
        served.process.send_signal(signal.SIGKILL)
        served.process.wait(timeout=10)
    fast = ("--data-dir", data_dir, "--issuer", issuer, "--runtime-step-ms", "20", "--log-level", "error")
    with serve(tmp_path, *fast) as served:
        status = ""
        deadline = time.monotonic() + 10
        while status != "running" and time.monotonic() < deadline:
            status = httpx.get(f"{served.base_url}/runtimes/{runtime['id']}", headers=headers).json()["status"]
            time.sleep(0.05)
        assert status == "running"
        events = httpx.get(
            f"{served.base_url}/events", params={"subject": f"runtimes/{runtime['id']}"}, headers=headers
        ).json()["items"]
        assert [event["type"] for event in events] == [
            "runtime.created",
            "runtime.starting",
            "runtime.running",
        ]


def test_logs_are_json_lines_without_secrets(tmp_path: Path) -> None:
    seed = REPO / "fixtures" / "seed.yaml"
    with serve(tmp_path, "--in-memory", "--seed", str(seed), "--log-level", "info") as served:
        tokens = served.login()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}", "X-Request-ID": "log-check-1"}
        listed = httpx.get(f"{served.base_url}/worlds", headers=bearer).json()["items"]
        assert [world["name"] for world in listed] == ["seed-archipelago", "seed-crowds"]
        httpx.post(f"{served.base_url}/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        httpx.post(f"{served.base_url}/auth/login", json={"client_id": "tenant-a-admin", "client_secret": "guess"})
        served.process.send_signal(signal.SIGTERM)
        served.process.wait(timeout=10)
        served.stderr.seek(0)
        text = served.stderr.read()
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    requests = [entry for entry in entries if entry.get("message") == "request"]
    mine = next(entry for entry in requests if entry.get("request_id") == "log-check-1")
    assert mine["method"] == "GET"
    assert mine["route"] == "/worlds"
    assert mine["status"] == 200
    assert mine["tenant"] == "tenant-a"
    assert mine["duration_ms"] >= 0
    forbidden = [
        *SECRETS,
        "guess",
        tokens["access_token"],
        tokens["refresh_token"],
        "Bearer",
        "authorization",
    ]
    for needle in forbidden:
        assert needle not in text, f"{needle[:12]}... leaked into the logs"

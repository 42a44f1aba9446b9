"""Hostile peers for the security tests: a deployment in front of the reference that turns on the
suite, and a way to run the CLI as a user would and collect everything it wrote.

The deployment is a real proxy on a loopback socket forwarding to the reference (in memory, its
issuer set to the proxy's own origin, as behind any real gateway). `answer` sees each request,
learns what passes through (the client's Basic credential, the tokens the provider issued) and may
answer instead of the reference.
"""

from __future__ import annotations

import base64
import contextlib
import html
import http.client
import json
import os
import sys
import tarfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus, urlsplit

from benchmarks.clients import admin
from phase2_reference.config import Config
from phase2_reference.testing.launcher import serving as serving_reference
from tests.conftest import _clean_env, run_measuring_peak_rss
from tests.hostile import servers

CLIENT_ID = admin().client_id
CLIENT_SECRET = admin().client_secret
CREDENTIALS = admin().suite_env()
MAX_RSS_MB = 1024  # the bound on a run's peak memory


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @classmethod
    def parse(cls, raw: bytes) -> Request:
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path = [*lines[0].split(" "), "", ""][:2]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return cls(method, path, headers, body)


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    reason: str = "Reply"

    def encode(self) -> bytes:
        names = {name.lower() for name, _ in self.headers}
        headers = list(self.headers)
        if "content-length" not in names and "transfer-encoding" not in names:
            headers.append(("Content-Length", str(len(self.body))))
        head = f"HTTP/1.1 {self.status} {self.reason}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers)
        return (head + "Connection: close\r\n\r\n").encode("latin-1") + self.body


def problem(status: int, detail: str, **extra: str) -> Reply:
    document = {"type": "about:blank", "title": "Broken", "status": status, "detail": detail}
    return Reply(status, json.dumps(document).encode(), [("Content-Type", "application/problem+json"), *extra.items()])


Answer = Callable[["HostileDeployment", Request], "Reply | None"]


class HostileDeployment:
    """A proxy to the reference that learns secrets passing through and answers with `answer`."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.server = servers.HostileServer(self._handle)
        self.url = self.server.url
        self.upstream = ""
        self.client_secrets: set[str] = set()
        self.tokens: set[str] = set()
        self.lock = threading.Lock()
        self._stack = contextlib.ExitStack()

    @property
    def secrets(self) -> set[str]:
        with self.lock:
            return self.client_secrets | self.tokens

    def __enter__(self) -> HostileDeployment:
        running = self._stack.enter_context(serving_reference(Config(data_dir=None, issuer=self.url)))
        self.upstream = running.origin
        self._stack.enter_context(self.server)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _handle(self, conn: object) -> None:
        import socket

        assert isinstance(conn, socket.socket)
        request = Request.parse(servers._read_whole_request(conn))
        self._learn_request(request)
        reply = self.answer(self, request) or self.forward(request)
        conn.sendall(reply.encode())

    def _learn_request(self, request: Request) -> None:
        authorization = request.headers.get("authorization", "")
        scheme, _, value = authorization.partition(" ")
        with self.lock:
            if scheme.lower() == "basic":
                with contextlib.suppress(ValueError):
                    self.client_secrets.add(base64.b64decode(value).decode().partition(":")[2])
            elif scheme.lower() == "bearer" and value:
                self.tokens.add(value)

    def forward(self, request: Request) -> Reply:
        parts = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
        headers = {k: v for k, v in request.headers.items() if k not in ("connection", "keep-alive")}
        connection.request(request.method, request.path, body=request.body or None, headers=headers)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        if request.path.startswith("/oauth2/token") and response.status == 200:
            with contextlib.suppress(ValueError, AttributeError), self.lock:
                document = json.loads(body)
                for name in ("access_token", "refresh_token"):
                    if isinstance(document.get(name), str):
                        self.tokens.add(document[name])
        skipped = {"content-length", "connection", "transfer-encoding", "keep-alive"}
        kept = [(n, v) for n, v in response.getheaders() if n.lower() not in skipped]
        return Reply(response.status, body, kept, response.reason)


def spellings(secret: str, client_id: str | None = None) -> dict[str, str]:
    """Every spelling of `secret` the issue names, by name."""
    raw = secret.encode()
    b64 = base64.b64encode(raw).decode()
    b64url = base64.urlsafe_b64encode(raw).decode()
    forms = {
        "raw": secret,
        "base64": b64,
        "base64 unpadded": b64.rstrip("="),
        "base64url": b64url,
        "base64url unpadded": b64url.rstrip("="),
        "percent-encoded": quote(secret, safe=""),
        "percent-encoded, lower-case hex": quote(secret, safe="").replace("%2B", "%2b").replace("%2F", "%2f"),
        "form-encoded (+)": quote_plus(secret),
        "percent-encoded base64 (%2B)": quote(b64, safe=""),
        "JSON-escaped": json.dumps(secret)[1:-1].replace("/", "\\/").replace("+", "\\u002b"),
        "JSON-escaped base64": json.dumps(b64)[1:-1].replace("/", "\\/").replace("+", "\\u002b"),
        "HTML entities": html.escape(secret).replace("+", "&#43;").replace("/", "&#x2F;"),
        "HTML-entity base64": html.escape(b64).replace("+", "&#43;").replace("/", "&#x2F;").replace("=", "&#61;"),
    }
    if client_id is not None:
        forms["Basic base64(id:secret)"] = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    # Forms that are only the raw secret again (no character to escape) say nothing new.
    return {name: form for name, form in forms.items() if name == "raw" or form != secret}


def every_spelling(secrets: set[str], client_id: str | None = None) -> str:
    """All spellings of all secrets, one per line: what a hostile peer reflects."""
    return "\n".join(form for secret in sorted(secrets) for form in spellings(secret, client_id).values())


@dataclass
class CliRun:
    exit_code: int
    stdout: str
    stderr: str
    report_dir: Path
    peak_rss_mb: float

    def report_texts(self) -> dict[str, str]:
        """Every file the run left in its report dir (Allure results, logs, manifest included)."""
        if not self.report_dir.exists():
            return {}
        return {
            str(path.relative_to(self.report_dir)): path.read_bytes().decode("utf-8", errors="replace")
            for path in sorted(self.report_dir.rglob("*"))
            if path.is_file()
        }

    @property
    def summary(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads((self.report_dir / "summary.json").read_text())
        return loaded


def run_cli(arguments: list[str], cwd: Path, env: dict[str, str] | None = None, report: bool = True) -> CliRun:
    """`python -m conformance ...` as a child process: its streams, its report dir, its peak RSS."""
    report_dir = cwd / "report"
    command = [sys.executable, "-m", "conformance", *arguments]
    if report:
        command += ["--report-dir", str(report_dir)]
    out_path, err_path = cwd / "stdout.txt", cwd / "stderr.txt"
    with out_path.open("w") as out, err_path.open("w") as err:
        # Files, not pipes, so a full pipe cannot block the child.
        code, rss_mb = run_measuring_peak_rss(command, env=_clean_env(env), cwd=cwd, stdout=out, stderr=err)
    return CliRun(code, out_path.read_text(errors="replace"), err_path.read_text(errors="replace"), report_dir, rss_mb)


def bundle_texts(archive: Path) -> dict[str, str]:
    with tarfile.open(archive) as bundle:
        return {
            member.name: (bundle.extractfile(member) or open(os.devnull, "rb")).read().decode("utf-8", errors="replace")
            for member in bundle.getmembers()
            if member.isfile()
        }


@contextlib.contextmanager
def deployment(answer: Answer) -> Iterator[HostileDeployment]:
    with HostileDeployment(answer) as hostile:
        yield hostile


def run_against(hostile: HostileDeployment, cwd: Path, *extra: str, env: dict[str, str] | None = None) -> CliRun:
    arguments = ["run", "-q", "--base-url", hostile.url + "/v2", "--profile", "quick", "--request-timeout", "5"]
    return run_cli([*arguments, *extra], cwd, {**CREDENTIALS, **(env or {})})

"""The way to the target: DNS, TCP, TLS (with the certificate's expiry), the base path and the clock.

Each step is bounded by the run's request time-out, and a failure names the step and its fix: an
on-call engineer learns whether the name, the port, the certificate or the path is wrong.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar
from urllib.parse import urlsplit

import httpx

from conformance.client.transport import NO_USABLE_ANSWER, LimitedClient, ssl_context
from conformance.doctor.findings import Finding, failed, ok
from conformance.settings import Settings

T = TypeVar("T")
CERTIFICATE_WARNING_DAYS = 14
# Beyond this, tokens minted by one side look expired or not yet valid to the other (common JWT
# leeways are 30 to 60 s), so the suite's own tokens would be refused for the wrong reason.
CLOCK_SKEW_LIMIT = 30.0


def _bounded(call: Callable[[], T], timeout: float) -> T:
    """Run a blocking call (getaddrinfo has no time-out of its own) for at most `timeout` seconds."""
    outcome: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # handed to the caller's thread
            error.append(exc)

    worker = threading.Thread(target=target, daemon=True, name="doctor-bounded")
    worker.start()
    worker.join(timeout)
    if error:
        raise error[0]
    if not outcome:
        raise TimeoutError(f"no answer within {timeout:g}s")
    return outcome[0]


def connection(settings: Settings) -> list[Finding]:
    """DNS, TCP and (for https) TLS; stops at the first step that fails, which is fatal."""
    assert settings.base_url is not None
    parts = urlsplit(settings.base_url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    timeout = settings.request_timeout
    try:
        addresses = _bounded(lambda: socket.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout)
    except (OSError, TimeoutError) as exc:
        return [failed("DNS", f"{host} does not resolve: {exc}", "check the host name in PHASE2_BASE_URL", fatal=True)]
    found = sorted({str(address[4][0]) for address in addresses})
    findings = [ok("DNS", f"{host} resolves to {', '.join(found[:4])}")]
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        findings.append(
            failed(
                "TCP",
                f"cannot connect to {host}:{port}: {reason}",
                "check the port in PHASE2_BASE_URL, that the deployment is up, and firewalls between here and it",
                fatal=True,
            )
        )
        return findings
    with sock:
        findings.append(ok("TCP", f"{host}:{port} accepts connections"))
        if parts.scheme == "https":
            findings.append(_tls(settings, sock, host))
    return findings


def _tls(settings: Settings, sock: socket.socket, host: str) -> Finding:
    try:
        context = ssl_context(settings.tls)
        with context.wrap_socket(sock, server_hostname=host) as tls:
            certificate = tls.getpeercert() or {}
            version = tls.version()
    except ssl.SSLCertVerificationError as exc:
        return failed(
            "TLS",
            f"the certificate of {host} is not trusted: {exc.verify_message or exc.reason}",
            "give the CA that signs it with --tls-ca (PHASE2_TLS_CA_PATH), or fix the deployment's certificate chain",
            fatal=True,
        )
    except (ssl.SSLError, OSError) as exc:
        return failed(
            "TLS",
            f"handshake with {host} failed: {getattr(exc, 'reason', None) or exc}",
            "check that the port speaks TLS and, for mutual TLS, --tls-cert/--tls-key (PHASE2_TLS_CERT_PATH)",
            fatal=True,
        )
    not_after = str(certificate.get("notAfter", ""))
    if not not_after:
        return ok("TLS", f"{version}, certificate verified")
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)
    days = (expires - datetime.now(UTC)).total_seconds() / 86400
    if days < CERTIFICATE_WARNING_DAYS:
        return failed(
            "TLS",
            f"{version}, certificate expires {expires:%Y-%m-%d} (in {days:.0f} days)",
            "renew the deployment's certificate",
        )
    return ok("TLS", f"{version}, certificate verified, expires {expires:%Y-%m-%d} (in {days:.0f} days)")


def base_path(client: LimitedClient, settings: Settings) -> tuple[Finding, httpx.Response | None]:
    """GET {base}/healthz: the base URL must be the API root (the contract's server path)."""
    assert settings.base_url is not None
    url = settings.base_url.rstrip("/") + "/healthz"
    try:
        response = client.get(url, headers={"Accept": "application/json"})
    except NO_USABLE_ANSWER as exc:
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        return failed("base path", f"{url} failed: {reason}", "check PHASE2_BASE_URL", fatal=True), None
    if response.status_code == 200 and _is_liveness(response):
        return ok("base path", f"{url} answered 200 with the liveness document"), response
    fix = "point PHASE2_BASE_URL at the API root (the contract's server path, e.g. https://host/v2)"
    suggestion = _suggest_root(client, settings.base_url)
    if suggestion:
        fix = f"use --base-url {suggestion} (PHASE2_BASE_URL): its /healthz answers"
    what = f"answered {response.status_code}" + ("" if response.status_code != 200 else " without a liveness document")
    if 300 <= response.status_code < 400:
        what += f" redirecting to {response.headers.get('location', '(no Location)')}"
    return failed("base path", f"{url} {what}", fix, fatal=True), response


def _is_liveness(response: httpx.Response) -> bool:
    try:
        document = response.json()
    except ValueError:
        return False
    return isinstance(document, dict) and "status" in document


def _suggest_root(client: LimitedClient, base_url: str) -> str | None:
    parts = urlsplit(base_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    for candidate in (origin + "/v2", origin):
        if candidate.rstrip("/") == base_url.rstrip("/"):
            continue
        try:
            response = client.get(candidate + "/healthz", headers={"Accept": "application/json"})
        except NO_USABLE_ANSWER:
            continue
        if response.status_code == 200 and _is_liveness(response):
            return candidate
    return None


def clock(response: httpx.Response, sent_at: float, requirements: tuple[str, ...]) -> Finding:
    """The target's `Date` against this machine's clock, at the middle of the exchange.

    `requirements` are those verified with the suite's own tokens, minted on this machine's clock.
    """
    date = response.headers.get("date")
    if not date:
        return ok("clock", "the target sends no Date header; skew not measured")
    try:
        server_time = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return failed("clock", f"the target's Date header {date!r} is not an HTTP date", "fix the Date header")
    elapsed = float(response.extensions.get("elapsed", 0.0))
    local_time = sent_at + elapsed / 2
    skew = server_time - local_time
    # Date has a resolution of one second; anything within it is no skew at all.
    if abs(skew) <= CLOCK_SKEW_LIMIT:
        return ok("clock", f"the target's Date is {skew:+.0f}s from this machine's clock")
    direction = "ahead of" if skew > 0 else "behind"
    return failed(
        "clock",
        f"the target's Date is {abs(skew):.0f}s {direction} this machine's clock (limit {CLOCK_SKEW_LIMIT:g}s)",
        "synchronise both clocks with NTP (chrony/timesyncd); tokens look expired or not yet valid across the skew",
        requirements,
    )

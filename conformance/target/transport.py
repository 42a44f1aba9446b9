"""HTTP to the target with hard limits, so a hostile target cannot hang or exhaust a run.

Two clients share the same limits: an `httpx.Client` for the suite's own scenarios and a
`requests.Session` subclass for Schemathesis (whose transport is `requests`). Limits per request:
a connect/read timeout, a total deadline from the first byte sent to the last byte read (a target
that drips one byte a second is cut off), a cap on the body size, and a cap on redirects.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import requests

from conformance.settings import Settings, TLSSettings

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


class ResponseLimitExceeded(requests.exceptions.RequestException):
    """The target's answer broke a transport limit (too slow in total, or too large)."""


@dataclass(frozen=True)
class Limits:
    timeout: float
    max_body_bytes: int = MAX_BODY_BYTES

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(timeout=settings.request_timeout)


def ssl_context(tls: TLSSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(tls.ca_path) if tls.ca_path else None)
    if tls.cert_path:
        context.load_cert_chain(str(tls.cert_path), str(tls.key_path) if tls.key_path else None)
    return context


def read_limited(response: httpx.Response, limits: Limits, started: float) -> bytes:
    """Read a streamed httpx response under the total deadline and size cap."""
    body = bytearray()
    # No chunk size: yield what each network read brings, so the deadline is checked as bytes arrive.
    for chunk in response.iter_bytes():
        body.extend(chunk)
        if len(body) > limits.max_body_bytes:
            raise ResponseLimitExceeded(f"response body exceeded {limits.max_body_bytes} bytes")
        if time.monotonic() - started > limits.timeout:
            raise ResponseLimitExceeded(f"response not complete after {limits.timeout:g}s ({len(body)} bytes received)")
    return bytes(body)


class LimitedClient(httpx.Client):
    """An httpx client whose every response is read under the run's limits."""

    def __init__(self, limits: Limits, **kwargs: Any) -> None:
        timeout = httpx.Timeout(limits.timeout)
        super().__init__(timeout=timeout, follow_redirects=False, **kwargs)
        self.limits = limits

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        kwargs["stream"] = True
        started = time.monotonic()
        response = super().send(request, **kwargs)
        try:
            content = read_limited(response, self.limits, started)
        except BaseException:
            response.close()
            raise
        response.close()
        # Re-create the response around the bytes read so callers see a normal, loaded response.
        loaded = httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            content=content,
            request=request,
            extensions={**response.extensions, "elapsed": time.monotonic() - started},
        )
        return loaded


def make_client(settings: Settings, *, app: Any = None, base_url: str | None = None) -> LimitedClient:
    """The suite's client for the target; `app` swaps the network for an in-process ASGI app."""
    limits = Limits.from_settings(settings)
    kwargs: dict[str, Any] = {"base_url": base_url or settings.base_url or ""}
    if app is not None:
        kwargs["transport"] = httpx.ASGITransport(app=app)
    elif settings.tls.cert_path or settings.tls.ca_path:
        kwargs["verify"] = ssl_context(settings.tls)
    return LimitedClient(limits, **kwargs)


class LimitedSession(requests.Session):
    """The `requests` session handed to Schemathesis, with the same limits as `LimitedClient`."""

    def __init__(self, limits: Limits, tls: TLSSettings | None = None) -> None:
        super().__init__()
        self.limits = limits
        self.max_redirects = MAX_REDIRECTS
        if tls is not None:
            if tls.cert_path:
                self.cert = (str(tls.cert_path), str(tls.key_path)) if tls.key_path else str(tls.cert_path)
            if tls.ca_path:
                self.verify = str(tls.ca_path)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["stream"] = True
        timeout = kwargs.get("timeout")
        if timeout is None or (isinstance(timeout, int | float) and timeout > self.limits.timeout):
            kwargs["timeout"] = self.limits.timeout
        started = time.monotonic()
        response = super().request(str(method), str(url), *args, **kwargs)
        if _is_event_stream(response.headers):
            # Schemathesis reads event streams itself, bounded by time and event count.
            return response
        body = bytearray()
        try:
            # read1 returns what one socket read brings (iter_content would wait for a full chunk).
            while chunk := response.raw.read1(_CHUNK, decode_content=True):
                body.extend(chunk)
                if len(body) > self.limits.max_body_bytes:
                    raise ResponseLimitExceeded(f"response body exceeded {self.limits.max_body_bytes} bytes")
                if time.monotonic() - started > self.limits.timeout:
                    raise ResponseLimitExceeded(
                        f"response not complete after {self.limits.timeout:g}s ({len(body)} bytes received)"
                    )
        finally:
            response.close()
        # requests keeps a read body in these two private fields; `.content` then returns it as read here.
        response._content = bytes(body)
        response._content_consumed = True  # type: ignore[attr-defined]
        return response


def _is_event_stream(headers: Mapping[str, str]) -> bool:
    return headers.get("content-type", "").split(";")[0].strip().lower() == "text/event-stream"

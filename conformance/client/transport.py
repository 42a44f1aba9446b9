"""HTTP to the target with hard limits, so a hostile target cannot hang or exhaust a run.

Two clients share the same limits: an `httpx.Client` for the suite's own scenarios and a
`requests.Session` subclass for Schemathesis (whose transport is `requests`). Limits per request:
a connect/read timeout, a total deadline from the first byte sent to the last byte read (a target
that drips one byte a second is cut off), a cap on the body size after decoding and on JSON depth
(`bounded`), and redirects followed only within the origin they came from. Both keep the run's
pace and honour 429s through one shared `RateGovernor` (see `ratelimit`).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import requests
import urllib3

from conformance.client import bounded
from conformance.client.rate_governor import RateGovernor, RateLimited, send_paced
from conformance.client.stall_breaker import StallBreaker
from conformance.settings import Settings, TLSSettings

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
# Connections kept open per client: every lane of every work item may hold one (`--workers` items,
# each with up to `checks.lanes.ITEM_LANES` requests in flight). Fewer would close the surplus after
# each use, and a new connection to a deployment far away costs one round trip more.
KEPT_CONNECTIONS = 64


class ResponseLimitExceeded(requests.exceptions.RequestException):
    """The target's answer broke a transport limit (too slow in total, or too large)."""


class ResponseTooLarge(ResponseLimitExceeded):
    """The answer is over a limit on what is read (decoded size, JSON depth, messages): a target
    that sends it is judged on it, never passed for what could not be read."""


class ResponseTooSlow(ResponseLimitExceeded):
    """The answer was not complete within the request time-out (it started, then dripped)."""


class RouteStalled(ResponseLimitExceeded):
    """Not sent: the route timed out repeatedly and is only probed now (see `stalls`)."""


# What a request of the suite's httpx client raises when the target gave no usable answer: the
# network's errors, the transport's limits, and 429s beyond what the run can wait.
NO_USABLE_ANSWER = (httpx.HTTPError, ResponseLimitExceeded, RateLimited)


@dataclass(frozen=True)
class Limits:
    timeout: float
    max_body_bytes: int = MAX_BODY_BYTES
    # One per run, shared by every client: routes that stopped answering are not waited on again.
    breaker: StallBreaker | None = field(default=None, compare=False)
    # One per run, shared by every client: the pace and the retries after a 429. Every request leaves
    # through it (`send_paced`); a client made without the run's gets one of its own.
    governor: RateGovernor = field(default_factory=RateGovernor, compare=False)

    @classmethod
    def from_settings(
        cls, settings: Settings, breaker: StallBreaker | None = None, governor: RateGovernor | None = None
    ) -> Limits:
        own = governor if governor is not None else RateGovernor()
        return cls(timeout=settings.request_timeout, breaker=breaker, governor=own)

    def refuse_stalled(self, url: str) -> None:
        reason = self.breaker.refusal(url) if self.breaker is not None else None
        if reason is not None:
            raise RouteStalled(reason)

    def stalled(self, url: str) -> None:
        if self.breaker is not None:
            self.breaker.stalled(url)

    def answered(self, url: str) -> None:
        if self.breaker is not None:
            self.breaker.answered(url)


def ssl_context(tls: TLSSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(tls.ca_path) if tls.ca_path else None)
    if tls.cert_path:
        context.load_cert_chain(str(tls.cert_path), str(tls.key_path) if tls.key_path else None)
    return context


def read_limited(response: httpx.Response, limits: Limits, started: float) -> bytes:
    """Read a streamed httpx response under the total deadline and the cap on its decoded size."""
    body = bytearray()
    try:
        decoder = bounded.Decoder(response.headers.get("content-encoding"), limits.max_body_bytes)
        # Raw bytes, decoded here under the cap (httpx would inflate a whole chunk at once). No
        # chunk size: what each network read brings, so the deadline is checked as bytes arrive.
        for chunk in response.iter_raw():
            body.extend(decoder.feed(chunk))
            if time.monotonic() - started > limits.timeout:
                raise ResponseTooSlow(f"response not complete after {limits.timeout:g}s ({len(body)} bytes received)")
        body.extend(decoder.flush())
        check_body(response.headers, bytes(body))
    except bounded.LimitExceeded as exc:
        raise ResponseTooLarge(f"response {exc}") from None
    return bytes(body)


def check_body(headers: Mapping[str, str], body: bytes) -> None:
    """The limits on a whole body's content: JSON no deeper than a parser may recurse."""
    if "json" in headers.get("content-type", "").lower():
        bounded.check_json_depth(body)


def loaded_response(
    response: httpx.Response, content: bytes, request: httpx.Request, **extensions: Any
) -> httpx.Response:
    """A finished httpx response around a body already read and decoded.

    Its headers stay as sent (Content-Encoding included, for the checks); the body is not
    decoded a second time.
    """
    loaded = httpx.Response(
        status_code=response.status_code,
        headers=response.headers,
        stream=httpx.ByteStream(b""),
        request=request,
        extensions={**response.extensions, **extensions},
    )
    loaded._content = content
    loaded.is_stream_consumed = True
    loaded.is_closed = True
    return loaded


class LimitedClient(httpx.Client):
    """An httpx client whose every response is read under the run's limits."""

    def __init__(self, limits: Limits, **kwargs: Any) -> None:
        timeout = httpx.Timeout(limits.timeout)
        pool = httpx.Limits(max_connections=100, max_keepalive_connections=KEPT_CONNECTIONS)
        super().__init__(timeout=timeout, follow_redirects=False, limits=pool, **kwargs)
        self.limits = limits

    # --- rate limits (see `ratelimit`): pace, and send again after a 429 --------------------------
    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        return send_paced(  # type: ignore[no-any-return]
            self.limits.governor,
            str(request.url),
            lambda: self._send_once(request, **kwargs),
            lambda response: (response.status_code, response.headers.get("retry-after")),
            lambda response: response.close(),
        )

    def send_streaming(self, request: httpx.Request) -> httpx.Response:
        """Send through the governor, and return the answer with its body still to be read (an
        event stream read as it arrives; the caller closes it). An error answer comes read whole."""
        return send_paced(  # type: ignore[no-any-return]
            self.limits.governor,
            str(request.url),
            lambda: self._open_once(request),
            lambda response: (response.status_code, response.headers.get("retry-after")),
            lambda response: response.close(),
        )

    def _open_once(self, request: httpx.Request) -> httpx.Response:
        started = time.monotonic()
        response = super().send(request, stream=True)
        if response.status_code < 400:
            return response
        # An error answer is a problem document, read like any body: the response checks judge it
        # whole whether or not the caller reads it, and a 429 is judged as an answer of its own
        # (`RateGovernor.on_limited`).
        try:
            content = read_limited(response, self.limits, started)
        finally:
            response.close()
        return loaded_response(response, content, request, elapsed=time.monotonic() - started)

    def _send_once(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        kwargs["stream"] = True
        url = str(request.url)
        self.limits.refuse_stalled(url)
        started = time.monotonic()
        try:
            response = super().send(request, **kwargs)
        except httpx.TimeoutException:
            self.limits.stalled(url)
            raise
        try:
            content = read_limited(response, self.limits, started)
        except BaseException as exc:
            response.close()
            if isinstance(exc, ResponseTooSlow | httpx.TimeoutException):
                self.limits.stalled(url)
            raise
        response.close()
        self.limits.answered(url)
        # Re-create the response around the bytes read so callers see a normal, loaded response.
        return loaded_response(response, content, request, elapsed=time.monotonic() - started)


def make_client(
    settings: Settings,
    *,
    app: Any = None,
    base_url: str | None = None,
    breaker: StallBreaker | None = None,
    governor: RateGovernor | None = None,
) -> LimitedClient:
    """The suite's client for the target; `app` swaps the network for an in-process ASGI app."""
    limits = Limits.from_settings(settings, breaker, governor)
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
        for prefix in ("http://", "https://"):
            self.mount(prefix, requests.adapters.HTTPAdapter(pool_maxsize=KEPT_CONNECTIONS))
        self.limits = limits
        self.max_redirects = MAX_REDIRECTS
        if tls is not None:
            if tls.cert_path:
                self.cert = (str(tls.cert_path), str(tls.key_path)) if tls.key_path else str(tls.cert_path)
            if tls.ca_path:
                self.verify = str(tls.ca_path)

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        """Follow a redirect only within the origin it came from.

        A redirect elsewhere is the target's answer, judged as it is: following it would send the
        target's bearer token to another origin and judge that origin's answer as the target's.
        """
        location = super().get_redirect_target(resp)
        if location is None:
            return None
        absolute = urljoin(resp.url, location)
        if not same_origin(resp.url, absolute):
            return None
        # requests would read the redirect's body whole before following it: read it bounded here.
        try:
            while resp.raw.read1(_CHUNK, decode_content=False):
                pass
        except urllib3.exceptions.HTTPError:
            pass
        resp._content = b""
        resp._content_consumed = True  # type: ignore[attr-defined]
        return location

    # --- rate limits (see `ratelimit`): pace, and send again after a 429 --------------------------
    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        return send_paced(  # type: ignore[no-any-return]
            self.limits.governor,
            str(url),
            lambda: self._request_once(method, url, *args, **kwargs),
            lambda response: (response.status_code, response.headers.get("retry-after")),
            lambda response: response.close(),
        )

    def _request_once(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["stream"] = True
        timeout = kwargs.get("timeout")
        if timeout is None or (isinstance(timeout, int | float) and timeout > self.limits.timeout):
            kwargs["timeout"] = self.limits.timeout
        self.limits.refuse_stalled(str(url))
        started = time.monotonic()
        try:
            response = super().request(str(method), str(url), *args, **kwargs)
        except requests.exceptions.Timeout:
            self.limits.stalled(str(url))
            raise
        if (
            response.status_code != 429
            and _is_event_stream(response.headers)
            and not bounded.codings_of(response.headers.get("content-encoding"))
        ):
            # Schemathesis reads event streams itself, bounded by time and event count; a compressed
            # one is read here like any body, so its decoded size is capped too, and so is a 429,
            # judged as an answer of its own (`RateGovernor.on_limited`).
            return response
        body = bytearray()
        try:
            decoder = bounded.Decoder(response.headers.get("content-encoding"), self.limits.max_body_bytes)
            # read1 returns what one socket read brings (iter_content would wait for a full chunk);
            # raw bytes, decoded here under the cap (urllib3 would inflate a whole chunk at once).
            while chunk := response.raw.read1(_CHUNK, decode_content=False):
                body.extend(decoder.feed(chunk))
                if time.monotonic() - started > self.limits.timeout:
                    raise ResponseTooSlow(
                        f"response not complete after {self.limits.timeout:g}s ({len(body)} bytes received)"
                    )
            body.extend(decoder.flush())
            check_body(response.headers, bytes(body))
        except bounded.LimitExceeded as exc:
            raise ResponseTooLarge(f"response {exc}") from None
        except ResponseTooSlow:
            self.limits.stalled(str(url))
            raise
        except urllib3.exceptions.ReadTimeoutError as exc:
            # The headers came, then the body stopped: raised by urllib3 itself, below requests.
            self.limits.stalled(str(url))
            raise ResponseTooSlow(f"response body stopped arriving: no data within {self.limits.timeout:g}s") from exc
        except urllib3.exceptions.HTTPError as exc:
            raise requests.exceptions.ConnectionError(f"response body broken off: {exc}") from exc
        finally:
            response.close()
        self.limits.answered(str(url))
        # requests keeps a read body in these two private fields; `.content` then returns it as read here.
        response._content = bytes(body)
        response._content_consumed = True  # type: ignore[attr-defined]
        return response


def same_origin(first: str, second: str) -> bool:
    """Scheme, host and port alike (default ports made explicit)."""

    def origin(url: str) -> tuple[str, str, int | None]:
        parts = urlsplit(url)
        try:
            port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
        except ValueError:
            port = -1
        return parts.scheme.lower(), (parts.hostname or "").lower(), port

    return origin(first) == origin(second)


def _is_event_stream(headers: Mapping[str, str]) -> bool:
    return headers.get("content-type", "").split(";")[0].strip().lower() == "text/event-stream"

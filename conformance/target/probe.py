"""Preflight: is there an HTTP server at the base URL that answers in time and in bounds?

Anything that makes testing impossible (refused, silent, reset, not HTTP, endless or dripping
body, redirect loop) raises `TargetUnreachable` with one line saying which, before any test runs.
A target that answers HTTP but wrongly is left to the checks: that is nonconformance, not absence.
"""

from __future__ import annotations

import httpx

from conformance.errors import TargetUnreachable
from conformance.target.ratelimit import RateLimited
from conformance.target.transport import LimitedClient, ResponseLimitExceeded


def preflight(client: LimitedClient, base_url: str) -> httpx.Response:
    url = base_url.rstrip("/") + "/healthz"
    timeout = client.limits.timeout
    try:
        response = client.get(url, headers={"Accept": "application/json"})
    except httpx.ConnectTimeout:
        raise TargetUnreachable(
            f"cannot connect to {base_url}: no answer to the connection within {timeout:g}s"
        ) from None
    except httpx.ConnectError as exc:
        raise TargetUnreachable(f"cannot connect to {base_url}: {_why(exc)}") from None
    except httpx.TimeoutException:
        raise TargetUnreachable(f"{url} accepted the connection but did not answer within {timeout:g}s") from None
    except (httpx.RemoteProtocolError, httpx.LocalProtocolError) as exc:
        raise TargetUnreachable(f"{url} does not answer with valid HTTP: {_why(exc)}") from None
    except (ResponseLimitExceeded, RateLimited) as exc:
        raise TargetUnreachable(f"{url} answered out of bounds: {exc}") from None
    except httpx.HTTPError as exc:
        raise TargetUnreachable(f"{url} failed: {_why(exc)}") from None
    if 300 <= response.status_code < 400:
        location = response.headers.get("location", "(no Location)")
        raise TargetUnreachable(
            f"{url} redirects ({response.status_code} to {location}); point the base URL at the API itself"
        )
    return response


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "Connection refused" in text or "[Errno 111]" in text:
        return "connection refused"
    if "reset" in text.lower():
        return "connection reset by the target"
    return text[:200]

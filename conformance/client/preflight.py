"""Preflight: is there an HTTP server at the base URL that answers in time and in bounds?

Anything that makes testing impossible (refused, silent, reset, not HTTP, endless or dripping
body, redirect loop) raises `TargetUnreachable` with one line saying which, before any test runs.

So does a server that is not a Phase 2 API at the given base path (a wrong `/v1`, a gateway
answering 404 everywhere, a plain web server): the liveness probe must answer the way the
contract describes it (its status, a media type it declares, a JSON object of its schema's
shape), or at least as an API of JSON answers does (a JSON error to a refused probe). A target
recognised as Phase 2 but answering wrongly is left to the checks: nonconformance, not absence.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from conformance.client.rate_governor import RateLimited
from conformance.client.transport import LimitedClient, ResponseLimitExceeded
from conformance.contract import load_contract
from conformance.contract.spec import Contract
from conformance.errors import TargetUnreachable

LIVENESS_PATH = "/healthz"
# A refused probe still proves an API is there when the refusal is the API's own JSON error: the
# checks then judge the refusal (health needs no credentials and must answer).
API_REFUSALS = frozenset({401, 403, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class LivenessShape:
    """What the contract says a liveness answer looks like."""

    status: int
    media_types: frozenset[str]
    keys: frozenset[str]  # the schema's required properties


def liveness_shape(contract: Contract) -> LivenessShape:
    operation = contract.raw["paths"][LIVENESS_PATH]["get"]
    status, response = next((k, v) for k, v in operation["responses"].items() if str(k).startswith("2"))
    content: Mapping[str, Any] = _resolve(contract.raw, response).get("content", {})
    keys: set[str] = set()
    for media in content.values():
        keys.update(_resolve(contract.raw, media.get("schema", {})).get("required", ()))
    return LivenessShape(int(status), frozenset(content), frozenset(keys))


def _resolve(raw: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    while isinstance(node.get("$ref"), str):
        target: Any = raw
        for part in str(node["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


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
    _recognise(response, url, base_url, load_contract())
    return response


def _recognise(response: httpx.Response, url: str, base_url: str, contract: Contract) -> None:
    """Raise `TargetUnreachable` unless the answer is a Phase 2 liveness answer (or an API's refusal).

    Recognised by its body, not by its labels: a deployment that answers the liveness object as
    text/plain is a Phase 2 API breaking a media-type rule, which the checks judge.
    """
    shape = liveness_shape(contract)
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    body = _json_object(response)
    if response.status_code == shape.status and body is not None and (not shape.keys or shape.keys & body.keys()):
        return
    if response.status_code in API_REFUSALS and (body is not None or "www-authenticate" in response.headers):
        return
    found = f"{response.status_code} {media_type or 'without a Content-Type'}"
    if body is not None and response.status_code == shape.status:
        found += f" without any of {', '.join(sorted(shape.keys))}"
    elif body is None and (media_type == "application/json" or media_type.endswith("+json")):
        found += " that is not a JSON object"
    path = urlsplit(base_url).path.rstrip("/")
    hint = (
        f"is the base path right? the contract's server path is {contract.server_path}"
        if path != contract.server_path
        else "is this a Phase 2 deployment?"
    )
    raise TargetUnreachable(f"GET {url} answered {found}: not a Phase 2 API at {base_url}; {hint}")


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        document = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    return document if isinstance(document, dict) else None


def _why(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "Connection refused" in text or "[Errno 111]" in text:
        return "connection refused"
    if "reset" in text.lower():
        return "connection reset by the target"
    return text[:200]

"""Access tokens for the run: provider discovery, client credentials, refresh before expiry.

The token endpoint is discovered from the provider's RFC 8414 metadata
(`/.well-known/oauth-authorization-server`), falling back to OpenID Connect discovery
(`/.well-known/openid-configuration`). Every token obtained is registered with the run's
`Redactor` before it is used, so it can never reach a report.

The client secret goes only where the user pointed the suite: metadata whose `issuer` is not the
provider, whose token endpoint is on another origin, or that moves the secret from https to plain
http is refused (`AuthError`, exit 3) unless the user named that origin (`--trust-token-origin`).
Redirects are never followed, so the secret cannot be bounced elsewhere either.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from conformance.client.rate_governor import RateLimited
from conformance.client.secrets import Redactor
from conformance.client.step_log import note_token
from conformance.client.transport import LimitedClient, ResponseLimitExceeded
from conformance.errors import AuthError
from conformance.settings import Identity, Settings

log = logging.getLogger("conformance.auth")

METADATA_PATHS = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")
# Refresh when less than this share of a token's lifetime is left, so no request races its expiry.
REFRESH_AT_REMAINING = 0.25
MIN_REMAINING_SECONDS = 5.0


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    token_endpoint: str
    auth_methods: tuple[str, ...]


@dataclass
class _Grant:
    access_token: str
    refresh_token: str | None
    expires_at: float
    lifetime: float
    scope: str


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _origin(url: str) -> str:
    """The origin compared for trust: scheme and host lower-cased, default ports made explicit."""
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return url
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


class TokenManager:
    """Fetches and refreshes tokens for each identity of the run."""

    def __init__(self, settings: Settings, client: LimitedClient, redactor: Redactor) -> None:
        self._settings = settings
        self._client = client
        self._redactor = redactor
        self._lock = threading.RLock()
        self._grants: dict[tuple[str, str], _Grant] = {}
        self._metadata: ProviderMetadata | None = None
        self.refreshes = 0

    @property
    def base_url(self) -> str:
        assert self._settings.base_url is not None
        return self._settings.base_url

    @property
    def provider(self) -> str:
        assert self._settings.base_url is not None
        return self._settings.auth_provider or origin_of(self._settings.base_url)

    def metadata(self) -> ProviderMetadata:
        with self._lock:
            if self._metadata is None:
                self._metadata = self._discover()
            return self._metadata

    def _discover(self) -> ProviderMetadata:
        base = self.provider.rstrip("/")
        reasons = []
        for path in METADATA_PATHS:
            url = base + path
            try:
                response = self._client.get(url, headers={"Accept": "application/json"})
            except (httpx.HTTPError, ResponseLimitExceeded, RateLimited) as exc:
                raise AuthError(f"auth provider {base} cannot be reached: {_reason(exc)}") from None
            if response.status_code != 200:
                reasons.append(f"{path} answered {response.status_code}")
                continue
            try:
                document = response.json()
                token_endpoint = document["token_endpoint"]
                issuer = document.get("issuer", base)
            except (ValueError, KeyError, TypeError):
                reasons.append(f"{path} is not metadata JSON with a token_endpoint")
                continue
            if not isinstance(token_endpoint, str) or not token_endpoint.startswith(("http://", "https://")):
                reasons.append(f"{path} has an unusable token_endpoint")
                continue
            self._refuse_untrusted(base, str(issuer), token_endpoint, path)
            methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
            return ProviderMetadata(
                issuer=str(issuer),
                token_endpoint=token_endpoint,
                auth_methods=tuple(str(m) for m in methods),
            )
        raise AuthError(f"auth provider {base} publishes no usable metadata: {'; '.join(reasons)}")

    def _refuse_untrusted(self, provider: str, issuer: str, token_endpoint: str, path: str) -> None:
        """AuthError unless the metadata keeps the client secret with the provider the user named."""
        trusted = {_origin(origin) for origin in self._settings.trust_token_origins}
        advice = "; name it with --trust-token-origin if that is intended"
        if issuer.rstrip("/") != provider and _origin(issuer) not in trusted:
            raise AuthError(
                f"auth provider {provider} refused: its {path} names issuer {issuer!r}, not the provider{advice}"
            )
        endpoint_origin = _origin(token_endpoint)
        if endpoint_origin in trusted:
            return
        if provider.startswith("https://") and not token_endpoint.startswith("https://"):
            raise AuthError(
                f"auth provider {provider} refused: its token endpoint {token_endpoint} is not https{advice}"
            )
        if endpoint_origin != _origin(provider):
            raise AuthError(
                f"auth provider {provider} refused: its token endpoint {token_endpoint} is on another origin"
                f" and would receive the client secret{advice}"
            )

    def token(self, role: str = "primary", scope: str | None = None) -> str:
        """A valid access token for `role`, refreshed before it expires."""
        with self._lock:
            key = (role, scope or "")
            grant = self._grants.get(key)
            now = time.monotonic()
            if grant is not None:
                remaining = grant.expires_at - now
                margin = max(grant.lifetime * REFRESH_AT_REMAINING, min(MIN_REMAINING_SECONDS, grant.lifetime / 2))
                if remaining > margin:
                    return grant.access_token
                grant = self._refresh(grant) if grant.refresh_token else None
                if grant is not None:
                    self.refreshes += 1
            if grant is None:
                grant = self._client_credentials(self._identity(role), scope)
            self._grants[key] = grant
            # Named in step logs by its kind, so a replay asks for a fresh one of the same role and scope.
            return note_token(grant.access_token, f"role:{role}" + (f":{scope}" if scope else ""))

    def disposable_token(self, role: str = "primary", scope: str | None = None) -> str:
        """A fresh token nobody else uses, for operations that revoke what they are given."""
        with self._lock:
            access_token = self._client_credentials(self._identity(role), scope).access_token
            return note_token(access_token, f"role:{role}" + (f":{scope}" if scope else ""))

    def _identity(self, role: str) -> Identity:
        identity = self._settings.identity(role)
        if identity is None:
            raise AuthError(f"no credentials for the {role} client")
        return identity

    def _client_credentials(self, identity: Identity, scope: str | None) -> _Grant:
        metadata = self.metadata()
        form = {"grant_type": "client_credentials"}
        if scope:
            form["scope"] = scope
        auth: tuple[str, str] | None = None
        secret = identity.client_secret.reveal()
        if "client_secret_basic" in metadata.auth_methods:
            auth = (identity.client_id, secret)
        else:
            form.update(client_id=identity.client_id, client_secret=secret)
        return self._token_request(form, auth, f"client {identity.client_id}")

    def _refresh(self, grant: _Grant) -> _Grant | None:
        assert grant.refresh_token is not None
        form = {"grant_type": "refresh_token", "refresh_token": grant.refresh_token}
        try:
            return self._token_request(form, None, "refresh")
        except AuthError as exc:
            # A refused refresh is recoverable: a new client-credentials grant follows.
            log.info("refresh refused, logging in again: %s", exc)
            return None

    def _token_request(self, form: dict[str, str], auth: tuple[str, str] | None, who: str) -> _Grant:
        metadata = self.metadata()
        try:
            response = self._client.post(
                metadata.token_endpoint,
                data=form,
                auth=auth,  # type: ignore[arg-type]
                headers={"Accept": "application/json"},
            )
        except (httpx.HTTPError, ResponseLimitExceeded, RateLimited) as exc:
            raise AuthError(f"token endpoint {metadata.token_endpoint} failed: {_reason(exc)}") from None
        document = _json_object(response)
        if response.status_code != 200:
            error = document.get("error") if document else None
            raise AuthError(
                f"token endpoint refused {who}: HTTP {response.status_code}"
                + (f" error={error}" if isinstance(error, str) else "")
            )
        access_token = document.get("access_token") if document else None
        if not isinstance(access_token, str) or not access_token:
            raise AuthError(f"token endpoint {metadata.token_endpoint} answered without an access_token")
        self._redactor.register(access_token)
        refresh_token = document.get("refresh_token") if document else None
        if isinstance(refresh_token, str):
            self._redactor.register(refresh_token)
        expires_in = document.get("expires_in") if document else None
        lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 300.0
        return _Grant(
            access_token=access_token,
            refresh_token=refresh_token if isinstance(refresh_token, str) else None,
            expires_at=time.monotonic() + lifetime,
            lifetime=lifetime,
            scope=str(document.get("scope", "")) if document else "",
        )


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        document = response.json()
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())[:200]

"""Masking of every secret the run handles: tokens, client secrets, credentials in headers.

A `Redactor` is the only way request and response data leave the target layer: failures,
reproduction commands, logs and reports all pass through it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping

MASK = "***"
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"})
# Also header names: a fuzzed body may carry them as keys, and a credential is masked wherever it sits.
SENSITIVE_FIELDS = (
    "access_token",
    "refresh_token",
    "client_secret",
    "id_token",
    "password",
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
)
# A JWS compact serialisation, with or without its signature.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_FIELD = re.compile(
    r"""(?P<key>["']?(?:""" + "|".join(SENSITIVE_FIELDS) + r""")["']?\s*[:=]\s*["']?)(?P<value>[^"'&\s,}]+)""",
    re.IGNORECASE,
)
_MIN_SECRET_LENGTH = 6


class Redactor:
    """Masks known secret values and anything shaped like a credential."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        for secret in secrets:
            self.register(secret)

    def register(self, secret: str | None) -> None:
        if secret and len(secret) >= _MIN_SECRET_LENGTH:
            with self._lock:
                self._secrets.add(secret)

    def text(self, value: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        value = _JWT.sub(MASK, value)
        value = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", value)
        return _FIELD.sub(lambda m: m.group("key") + MASK, value)

    def headers(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
        items = headers.items() if isinstance(headers, Mapping) else headers
        masked: dict[str, str] = {}
        for name, value in items:
            masked[name] = MASK if name.lower() in SENSITIVE_HEADERS else self.text(str(value))
        return masked

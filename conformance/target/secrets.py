r"""Masking of every secret the run handles: tokens, client secrets, credentials in headers.

A `Redactor` is the only way request and response data leave the target layer: failures,
reproduction commands, logs and reports all pass through it, and the CLI's streams and the report
directory pass through it once more on their way out (`conformance.reporting.guard`).

A secret is masked in every spelling a peer may echo it in, and in mixtures of them: raw,
base64 and base64url (padded or not, at any alignment inside a longer encoded string, so
`Basic base64(id:secret)` is covered), percent-encoded (upper or lower hex, `+` or `%2B`, twice
encoded), JSON-escaped (`\/`, `\u002b`) and HTML character references (`&#43;`, `&#x2B;`,
`&plus;`). Each character of a spelling may come in any of its escapes, so one pattern per
encoded form covers them all.
"""

from __future__ import annotations

import base64
import html.entities
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
# An encoded form shorter than this is not masked on its own: it would hit ordinary text.
_MIN_FORM_LENGTH = 6
# Characters of base64 a prefix of k unknown bytes can change (k = 0, 1, 2), so a secret inside a
# longer base64 string (`id:secret`) is found at every alignment.
_B64_SKIP = (0, 2, 3)
_NAMED_ENTITIES: dict[str, list[str]] = {}
for _name, _codepoint in html.entities.name2codepoint.items():
    if _codepoint < 128:
        _NAMED_ENTITIES.setdefault(chr(_codepoint), []).append(_name)


def _char_spellings(char: str) -> list[str]:
    """Every way one character of a secret may be written by an encoder a peer uses."""
    code = ord(char)
    spellings = {char}
    for hex_digits in (f"{code:02X}", f"{code:02x}"):
        spellings.update({f"%{hex_digits}", f"%25{hex_digits}", f"&#x{hex_digits};", f"&#X{hex_digits};"})
    if code < 0x10000:
        spellings.update({f"\\u{code:04x}", f"\\u{code:04X}"})
    spellings.add(f"&#{code};")
    spellings.update(f"&{name};" for name in _NAMED_ENTITIES.get(char, ()))
    if char == "/":
        spellings.add("\\/")
    if char == " ":
        spellings.add("+")
    return sorted(spellings, key=len, reverse=True)


def _form_pattern(form: str) -> str:
    return "".join("(?:" + "|".join(re.escape(s) for s in _char_spellings(c)) + ")" for c in form)


def encoded_forms(secret: str) -> list[str]:
    """The secret and its base64/base64url cores at each alignment (before per-character escapes)."""
    raw = secret.encode("utf-8")
    forms = {secret}
    for skip_bytes, skip_chars in enumerate(_B64_SKIP):
        padded = base64.b64encode(b"\0" * skip_bytes + raw).decode("ascii")
        # Characters after this one also depend on whatever follows the secret.
        stable = ((skip_bytes + len(raw)) * 8) // 6
        core = padded[skip_chars:stable]
        if skip_bytes == 0:
            forms.update({padded, padded.rstrip("=")})
        forms.add(core)
    forms |= {form.replace("+", "-").replace("/", "_") for form in forms if form != secret}
    return sorted((f for f in forms if len(f) >= _MIN_FORM_LENGTH), key=len, reverse=True)


class Redactor:
    """Masks known secret values (in every spelling) and anything shaped like a credential."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.register(secret)

    def register(self, secret: str | None) -> None:
        if secret and len(secret) >= _MIN_SECRET_LENGTH:
            with self._lock:
                if secret not in self._secrets:
                    self._secrets.add(secret)
                    self._pattern = None

    def register_client(self, client_id: str, client_secret: str) -> None:
        """A client's secret, and `id:secret` as it is spelled inside a Basic header."""
        self.register(client_secret)
        self.register(f"{client_id}:{client_secret}")

    @property
    def secrets(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._secrets)

    def _known(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._secrets:
                forms = {form for secret in self._secrets for form in encoded_forms(secret)}
                ordered = sorted(forms, key=len, reverse=True)
                self._pattern = re.compile("|".join(_form_pattern(form) for form in ordered))
            return self._pattern

    def text(self, value: str) -> str:
        known = self._known()
        if known is not None:
            value = known.sub(MASK, value)
        value = _JWT.sub(MASK, value)
        value = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", value)
        return _FIELD.sub(lambda m: m.group("key") + MASK, value)

    def headers(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
        items = headers.items() if isinstance(headers, Mapping) else headers
        masked: dict[str, str] = {}
        for name, value in items:
            masked[name] = MASK if name.lower() in SENSITIVE_HEADERS else self.text(str(value))
        return masked

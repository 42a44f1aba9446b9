r"""Masking of every secret the run handles: tokens, client secrets, credentials in headers.

A `Redactor` is the only way request and response data leave the target layer: failures,
reproduction commands, logs and reports all pass through it, and the CLI's streams and the report
directory pass through it once more on their way out (`conformance.reporting.guard`).

A secret is masked in every spelling a peer may echo it in, and in mixtures of them: raw,
base64 and base64url (padded or not, at any alignment inside a longer encoded string, so
`Basic base64(id:secret)` is covered), percent-encoded (upper or lower hex, `+` or `%2B`, twice
encoded), JSON-escaped (`\/`, `\u002b`) and HTML character references (`&#43;`, `&#x2B;`,
`&plus;`). Each character of a spelling may come in any of its escapes: the text is searched
with every escape undone, and what matched is masked in the text as written.
"""

from __future__ import annotations

import base64
import html.entities
import logging
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
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+([A-Za-z0-9._~+/=-]+)")
# A word after "Bearer" or "Basic" is taken for a credential only when it looks like one: prose such
# as "a Bearer challenge" or "Basic client authentication" (the catalog's own statements) must read
# as written. Credentials the run knows are masked by value whatever their shape.
_MIN_CREDENTIAL_LENGTH = 6
_ALWAYS_CREDENTIAL_LENGTH = 20
# A reproduction's `Authorization: Bearer $PHASE2_TOKEN` names a shell variable, not a credential:
# it stays readable (the one exemption: exactly that variable, after exactly that scheme).
_TOKEN_VARIABLE = r"(?!(?i:bearer)\s+\$PHASE2_TOKEN\b)"
# A key starts a word: `invalid_token: ...` (an OAuth error code in prose) is not an `id_token` field.
_FIELD = re.compile(
    r"""(?P<key>(?<![A-Za-z0-9])["']?(?:"""
    + "|".join(SENSITIVE_FIELDS)
    + r""")["']?\s*[:=]\s*["']?)"""
    + _TOKEN_VARIABLE
    + r"""(?P<value>[^"'&\s,}]+)""",
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


# One escape of one character, in any of the encodings a peer may apply (percent, twice
# percent-encoded, JSON `\u` and `\/`, HTML character references).
_ESCAPE = re.compile(
    r"%25[0-9A-Fa-f]{2}|%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|\\/|&#[0-9]{1,7};|&#[xX][0-9A-Fa-f]{1,6};|&[A-Za-z][A-Za-z0-9]{1,31};"
)
_ESCAPE_STARTS = ("%", "\\", "&")


def _unescape(escape: str) -> str | None:
    """The character one escape stands for; None when it stands for none (an unknown entity)."""
    try:
        if escape.startswith("%25"):
            return chr(int(escape[3:], 16))
        if escape.startswith("%"):
            return chr(int(escape[1:], 16))
        if escape == "\\/":
            return "/"
        if escape.startswith("\\u"):
            return chr(int(escape[2:], 16))
        if escape.startswith(("&#x", "&#X")):
            return chr(int(escape[3:-1], 16))
        if escape.startswith("&#"):
            return chr(int(escape[2:-1]))
    except (ValueError, OverflowError):
        return None
    codepoint = html.entities.name2codepoint.get(escape[1:-1])
    return chr(codepoint) if codepoint is not None else None


def _normalise(text: str) -> tuple[str, list[int] | None, list[int] | None]:
    """`text` with every escape undone, and where each of its characters starts and ends in `text`.

    Undoing escapes first lets one plain search find a secret however its characters were
    escaped, and mixtures of escapes, at C speed.
    """
    if not any(start in text for start in _ESCAPE_STARTS):
        return text, None, None
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for found in _ESCAPE.finditer(text):
        char = _unescape(found.group())
        if char is None:
            continue
        if found.start() > position:
            pieces.append(text[position : found.start()])
            starts.extend(range(position, found.start()))
            ends.extend(range(position + 1, found.start() + 1))
        pieces.append(char)
        starts.append(found.start())
        ends.append(found.end())
        position = found.end()
    pieces.append(text[position:])
    starts.extend(range(position, len(text)))
    ends.extend(range(position + 1, len(text) + 1))
    return "".join(pieces), starts, ends


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
    # Form encoding writes a space as `+`.
    forms |= {form.replace(" ", "+") for form in forms if " " in form}
    return sorted((f for f in forms if len(f) >= _MIN_FORM_LENGTH), key=len, reverse=True)


def _mask_credential(match: re.Match[str]) -> str:
    scheme, word = match.group(1), match.group(2)
    looks_like_one = len(word) >= _ALWAYS_CREDENTIAL_LENGTH or (
        len(word) >= _MIN_CREDENTIAL_LENGTH and not word.isalpha()
    )
    return f"{scheme} {MASK}" if looks_like_one else match.group(0)


class Redactor:
    """Masks known secret values (in every spelling) and anything shaped like a credential."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._forms: tuple[str, ...] | None = None
        for secret in secrets:
            self.register(secret)

    def register(self, secret: str | None) -> None:
        if secret and len(secret) >= _MIN_SECRET_LENGTH:
            with self._lock:
                if secret not in self._secrets:
                    self._secrets.add(secret)
                    self._forms = None

    def register_client(self, client_id: str, client_secret: str) -> None:
        """A client's secret, and `id:secret` as it is spelled inside a Basic header."""
        self.register(client_secret)
        self.register(f"{client_id}:{client_secret}")

    @property
    def secrets(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._secrets)

    def _known(self) -> tuple[str, ...]:
        with self._lock:
            if self._forms is None:
                forms = {form for secret in self._secrets for form in encoded_forms(secret)}
                self._forms = tuple(sorted(forms, key=len, reverse=True))
            return self._forms

    def _mask_known(self, value: str) -> str:
        forms = self._known()
        if not forms:
            return value
        normalised, starts, ends = _normalise(value)
        spans: list[tuple[int, int]] = []
        for form in forms:
            index = normalised.find(form)
            while index != -1:
                last = index + len(form) - 1
                spans.append((starts[index], ends[last]) if starts and ends else (index, last + 1))
                index = normalised.find(form, index + 1)
        if not spans:
            return value
        pieces: list[str] = []
        position = 0
        for start, end in sorted(spans):
            if end <= position:
                continue
            if start >= position:
                pieces.append(value[position:start])
                pieces.append(MASK)
            position = end
        pieces.append(value[position:])
        return "".join(pieces)

    def text(self, value: str) -> str:
        value = self._mask_known(value)
        value = _JWT.sub(MASK, value)
        value = _BEARER.sub(_mask_credential, value)
        return _FIELD.sub(lambda m: m.group("key") + MASK, value)

    def headers(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
        items = headers.items() if isinstance(headers, Mapping) else headers
        masked: dict[str, str] = {}
        for name, value in items:
            masked[name] = MASK if name.lower() in SENSITIVE_HEADERS else self.text(str(value))
        return masked


class RedactingFilter(logging.Filter):
    """Masks the suite's own log records (message and arguments) before any handler sees them."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor.text(record.getMessage())
        record.args = None
        return True

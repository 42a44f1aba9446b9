"""Opaque pagination cursors: the list they belong to and the last position, with a MAC.

A cursor is base64url (no padding) of `kind (1 byte) | sequence (8 bytes) | MAC (12 bytes)`.
The MAC, keyed by a secret derived from the signing key, makes a tampered or foreign cursor
detectable, so it answers 400 rather than silently starting elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct

KINDS = {"worlds": 1, "runtimes": 2, "events": 3}
MAC_SIZE = 12
MAX_SEQUENCE = 2**63 - 1


class InvalidCursor(ValueError):
    """The cursor was not issued by this server for this list."""


class CursorCodec:
    def __init__(self, secret: bytes) -> None:
        self._secret = hashlib.sha256(b"phase2-cursor\x00" + secret).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:MAC_SIZE]

    def encode(self, kind: str, sequence: int) -> str:
        payload = struct.pack(">Bq", KINDS[kind], sequence)
        return base64.urlsafe_b64encode(payload + self._mac(payload)).rstrip(b"=").decode("ascii")

    def decode(self, kind: str, cursor: str) -> int:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError) as exc:
            raise InvalidCursor("The cursor is malformed.") from exc
        if len(raw) != 9 + MAC_SIZE:
            raise InvalidCursor("The cursor is malformed.")
        payload, mac = raw[:9], raw[9:]
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidCursor("The cursor was not issued by this server.")
        code, sequence = struct.unpack(">Bq", payload)
        if code != KINDS[kind] or sequence < 0:
            raise InvalidCursor("The cursor belongs to another list.")
        if self.encode(kind, sequence) != cursor:
            # Another spelling of the same bytes (non-zero padding bits) was not issued by us.
            raise InvalidCursor("The cursor is malformed.")
        return int(sequence)

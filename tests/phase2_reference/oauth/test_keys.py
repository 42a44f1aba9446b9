"""The RS256 signing key: kept in the data dir, stable kid, JWK export."""

from __future__ import annotations

from pathlib import Path

import jwt

from phase2_reference.oauth.keys import KEY_FILE, SigningKey


def test_created_once_and_reloaded(tmp_path: Path) -> None:
    first = SigningKey.load_or_create(tmp_path)
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    second = SigningKey.load_or_create(tmp_path)
    assert first.kid == second.kid
    assert first.public_jwk == second.public_jwk
    assert not list(tmp_path.glob("*.tmp"))


def test_in_memory_keys_are_ephemeral() -> None:
    assert SigningKey.load_or_create(None).kid != SigningKey.load_or_create(None).kid


def test_the_jwk_verifies_what_the_key_signs() -> None:
    key = SigningKey.generate()
    token = jwt.encode({"x": 1}, key.private_key, algorithm="RS256", headers={"kid": key.kid})
    jwk = key.public_jwk
    assert jwk["kid"] == key.kid
    assert jwk["alg"] == "RS256"
    assert jwk["use"] == "sig"
    public = jwt.PyJWK(jwk).key
    assert jwt.decode(token, public, algorithms=["RS256"]) == {"x": 1}

"""`phase2-conformance token`: print one token so a failure's pasted curl command works.

`--kind valid` (the default) is a token of the configured client (`--role`, `--scope`); the test
issuer's kinds (`expired`, `wrong-audience`, `alg-none`, ...) are forged exactly as the auth class
forges them, and `junk-opaque`/`junk-three-part` are the non-JWT strings it sends.

Printing a token is the one exception to "secrets never leave the run", and it is safe:
- it happens only on this explicit request, and only the token is printed, alone, on stdout
  (advice goes to stderr), so `export PHASE2_TOKEN=$(phase2-conformance token ...)` keeps it in
  the user's shell and out of logs, reports and the terminal's scrollback;
- the token is the suite's own client's (the user holds its secret already) or a forged,
  test-only one signed with the public test key of `fixtures/keys/`, which no production issuer
  trusts;
- nothing else the command writes carries it (stderr stays masked), and it is printed only when
  it is plain token text, so a hostile token endpoint cannot reach the terminal through it.
"""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

from conformance.contract.files import fixtures_dir
from conformance.errors import ConfigError
from conformance.replay import JUNK, Credentials
from conformance.reporting.terminal import GuardedStream

VALID = "valid"
TOKEN_TEXT = re.compile(r"^[A-Za-z0-9._~+/=-]+$")


def token_kinds() -> list[str]:
    from conformance.peers.token_issuer import KINDS

    return [VALID, *KINDS, "without-scope", *JUNK]


def raw_stdout() -> TextIO:
    """The process's stdout under the CLI's masking guard: the one place a token may be written."""
    stream = sys.stdout
    return stream.stream if isinstance(stream, GuardedStream) else stream


def write_token(token: str) -> None:
    if not TOKEN_TEXT.match(token):
        raise ConfigError("the token is not plain token text; it is not printed")
    out = raw_stdout()
    out.write(token + "\n")
    out.flush()


def trust_advice(issuer_url: str, fixed_port: bool) -> str:
    jwks = fixtures_dir() / "keys" / "test-issuer-jwks.json"
    advice = (
        f"the target accepts this token only if it trusts the suite's test issuer {issuer_url} "
        f"(JWKS {issuer_url}/jwks.json, the same keys as {jwks}); the reference: "
        f"phase2-conformance serve --trust-issuer {issuer_url}={jwks}"
    )
    if not fixed_port:
        advice += "; pass --test-issuer-port PORT (the port the target trusts) for a stable issuer"
    return advice


def print_token(session: Any, kind: str, role: str, scope: str | None) -> int:
    """Print the token of `kind` for the prepared `session`'s target; advice on stderr."""
    if kind == VALID:
        write_token(str(session.tokens.token(role, scope)))
        return 0
    from conformance.peers.token_issuer import TestIssuer

    settings = session.settings
    with TestIssuer(port=settings.test_issuer_port, host=settings.callback_host) as issuer:
        session.resources.test_issuer = issuer
        token = Credentials(session).token(f"issuer:{kind}")
        assert token is not None
        print(trust_advice(issuer.issuer, settings.test_issuer_port not in (None, 0)), file=sys.stderr)
        write_token(token)
    return 0

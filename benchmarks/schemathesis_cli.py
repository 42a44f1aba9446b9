"""Schemathesis' own CLI (`st run`) as the proofs run it: the command and its configuration file.

`benchmarks/schemathesis.toml` is the proof configuration (dynamic auth through /auth/login and the
contract's expected statuses, each with its reason). It names its client as Schemathesis'
`${PHASE2_CLIENT_ID}` / `${PHASE2_CLIENT_SECRET}` placeholders, so the secret stays in
`fixtures/clients.yaml` alone; `proof_config()` is that file with the primary client filled in, for a
`st` process that does not get the variables from its caller.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import sys
import tempfile
from functools import cache
from pathlib import Path

from benchmarks.clients import admin
from conformance.contract.files import spec_path

TEMPLATE = Path(__file__).resolve().with_name("schemathesis.toml")
# Values that need no escaping in a TOML basic string: the fixture's ids and secrets are of this form.
_PLAIN = re.compile(r"[A-Za-z0-9._~-]+")


@cache
def proof_config() -> Path:
    """The proof configuration with the primary client written in, in a private file of this process."""
    client = admin()
    values = {"${PHASE2_CLIENT_ID}": client.client_id, "${PHASE2_CLIENT_SECRET}": client.client_secret}
    text = TEMPLATE.read_text(encoding="utf-8")
    for placeholder, value in values.items():
        if not _PLAIN.fullmatch(value):
            raise ValueError(f"fixtures/clients.yaml: {placeholder[2:-1]} is not a plain token")
        if placeholder not in text:
            raise ValueError(f"{TEMPLATE} no longer names {placeholder}")
        text = text.replace(placeholder, value)
    directory = tempfile.mkdtemp(prefix="phase2-st-config-")  # 0700: the secret is readable by us alone
    atexit.register(shutil.rmtree, directory, True)
    path = Path(directory) / "schemathesis.toml"
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o600)
    return path


def st_env() -> dict[str, str]:
    """The environment in which `st --config-file benchmarks/schemathesis.toml` finds its client."""
    return {**os.environ, **admin().suite_env()}


def st_run_command(base_url: str, max_examples: int, seed: int) -> list[str]:
    """Schemathesis' CLI with all checks, both modes and every phase, as the proof runs it."""
    st = str(Path(sys.executable).with_name("st"))
    return [
        st, "--config-file", str(proof_config()), "run", str(spec_path()), "--url", base_url,
        "--checks", "all", "--mode", "all", "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(max_examples), "--seed", str(seed), "--request-timeout", "15", "--no-color",
    ]  # fmt: skip

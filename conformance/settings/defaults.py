"""Defaults that depend on the run: the profile's figures, the target, the CI job, the run id."""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.profiles import DEFAULT_SEED, Profile
from conformance.shards import shard_from_ci

LOOPBACK_WORKERS = 1  # a target on this machine answers in microseconds: threads would only add contention
REMOTE_WORKERS = 8  # a remote target: hide the round trips behind each other
MAX_WORKERS = 64


@dataclass(frozen=True)
class Basis:
    """What other settings' defaults follow from: resolved before any of them."""

    profile: Profile
    reference: bool
    base_url: str | None
    env: Mapping[str, str]
    run_id: str


@dataclass(frozen=True)
class Default:
    """A setting's value when no source gives one; `text` says it in --help and the README."""

    text: str
    compute: Callable[[Basis], Any]


def fixed(value: Any, text: str | None = None) -> Default:
    return Default(str(value) if text is None else text, lambda basis: value)


def of_profile(attribute: str) -> Default:
    return Default(f"the profile's {attribute.replace('_', ' ')}", lambda basis: getattr(basis.profile, attribute))


def default_workers(base_url: str | None) -> int:
    """Work items run at once by default: one on loopback (the embedded reference), eight elsewhere."""
    if base_url is None:
        return LOOPBACK_WORKERS
    host = (urlsplit(base_url).hostname or "").lower()
    loopback = host == "localhost" or host.endswith(".localhost")
    with contextlib.suppress(ValueError):
        loopback = loopback or ipaddress.ip_address(host).is_loopback
    return LOOPBACK_WORKERS if loopback else REMOTE_WORKERS


def _seed(basis: Basis) -> int:
    return DEFAULT_SEED if basis.profile.deterministic_seed else int.from_bytes(os.urandom(4), "big")


def _ci_shard(basis: Basis) -> str | None:
    found = shard_from_ci(basis.env)
    return str(found[0]) if found is not None else None


SEED = Default(f"{DEFAULT_SEED}; random for nightly", _seed)
WORKERS = Default(
    f"{LOOPBACK_WORKERS} for a loopback target (the embedded reference, `localhost`, `127.0.0.1`, `::1`), "
    f"{REMOTE_WORKERS} for any other",
    lambda basis: default_workers(basis.base_url),
)
CI_SHARD = Default(
    "the CI job's: GitLab's `CI_NODE_INDEX`/`CI_NODE_TOTAL`, Buildkite's `BUILDKITE_PARALLEL_JOB`/`_COUNT`, "
    "CircleCI's `CIRCLE_NODE_INDEX`/`_TOTAL`; else the whole plan",
    _ci_shard,
)
REPORT_DIR = Default("`reports/<run-id>`", lambda basis: Path("reports") / basis.run_id)
ON_FOR_THE_REFERENCE = Default("on for the reference", lambda basis: basis.reference)

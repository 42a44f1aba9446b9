"""The `smoke` profile: safe against production by construction.

A smoke run reads and never writes: only the contract's GET and HEAD operations, only the
requirements whose every check is read-only (contract conformance of those reads, problem
documents, health, metrics, traces and request ids), no forged tokens (the test issuer is off), no
test controls, one example per operation, at most 10 requests a second, a hard time cap. Anything
that could write or forge is refused with one line (exit 2) instead of being quietly dropped: a
probe that silently did less than asked would be a lie, and one that did more could damage
production.
"""

from __future__ import annotations

from dataclasses import replace

from conformance.errors import ConfigError
from conformance.settings import Settings

SMOKE = "smoke"
SMOKE_CLASSES = frozenset({"contract", "protocol", "health", "telemetry"})
READ_METHODS = frozenset({"GET", "HEAD"})
# Requests per second at the most: a probe every few minutes must not show up as load on production.
SMOKE_MAX_RATE = 10.0
# Requirements whose every check only reads. Left out on purpose: CON-006 (needs invalid data, which
# the one-example phase does not generate), CON-007..010 (writes, links,
# deletions), PRO-003/004/007/008 (judged on resources the run creates), PRO-005 (forged tokens),
# PRO-006 (undeclared methods such as DELETE), PRO-009..013 (crafted bodies and outages), CON-008
# (odd bodies sent to every operation), HLT-003 (takes the data store away).
SMOKE_REQUIREMENTS = frozenset(
    {
        *(f"P2-CON-{n:03d}" for n in range(1, 6)),
        "P2-PRO-001",
        "P2-PRO-002",
        *(f"P2-HLT-{n:03d}" for n in (1, 2, 4, 5, 6)),
        *(f"P2-TEL-{n:03d}" for n in range(1, 11)),
    }
)
# Settings that write, forge or run code the profile cannot vouch for: refused when given at all,
# named as the user gave them (`settings.labels`).
REFUSED = {
    "reference_faults": "a deliberately broken reference",
    "reference_controls": "test controls take the data store away",
    "test_issuer_trusted": "forged tokens",
    "check_modules": "checks it cannot vouch for",
    "rerun_failed": "it replays writes",
    "outage_start": "it takes a component of the deployment away",
    "outage_end": "it takes a component of the deployment away",
}


def read_only_operations() -> frozenset[str]:
    from conformance.contract import load_contract  # the contract is loaded only for smoke runs

    return frozenset(op.operation_id for op in load_contract().operations if op.method in READ_METHODS)


def _refuse(what: str) -> ConfigError:
    return ConfigError(f"the smoke profile is read-only and refuses {what}; use --profile quick for a full check")


def restrict_to_smoke(settings: Settings) -> Settings:
    """Settings of a smoke run narrowed to what only reads; other profiles pass through unchanged."""
    if settings.profile.name != SMOKE:
        return settings
    for name, why in REFUSED.items():
        if name in settings.sources:
            raise _refuse(f"{settings.labels.get(name, name)} ({why})")
    given = settings.sources
    writing_classes = sorted(settings.classes - SMOKE_CLASSES) if "classes" in given else []
    if writing_classes:
        raise _refuse(
            f"class {writing_classes[0]} (it writes or forges tokens; smoke runs {', '.join(sorted(SMOKE_CLASSES))})"
        )
    outside = sorted(settings.requirement_filter - SMOKE_REQUIREMENTS)
    if outside:
        raise _refuse(f"requirement {outside[0]} (its checks write or forge tokens)")
    readable = read_only_operations()
    writes = sorted(settings.operation_filter - readable)
    if writes:
        raise _refuse(f"operation {writes[0]} (it writes)")
    profile = settings.profile
    if settings.time_budget > profile.time_budget:
        raise _refuse(f"a time budget over its cap of {profile.time_budget:g}s")
    if settings.max_examples > profile.max_examples:
        raise _refuse(f"more than {profile.max_examples} examples per operation")
    if settings.max_rate is not None and settings.max_rate > SMOKE_MAX_RATE:
        raise _refuse(f"a rate over its cap of {SMOKE_MAX_RATE:g} requests per second")
    return replace(
        settings,
        classes=settings.classes & SMOKE_CLASSES,
        requirement_filter=settings.requirement_filter or SMOKE_REQUIREMENTS,
        operation_filter=settings.operation_filter or readable,
        test_issuer_trusted=False,
        reference_controls=False,
        max_rate=settings.max_rate or SMOKE_MAX_RATE,
    )

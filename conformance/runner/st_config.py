"""The Schemathesis configuration of a run, derived from the settings and the contract.

`positive_data_acceptance` is replaced by the suite's own check (conformance/classes/contract/contract_responses.py),
whose per-operation expectations come from `contract/expectations.py`; per-operation entries here
would make every Schemathesis config lookup scan them.
"""

from __future__ import annotations

from typing import Any

from conformance.contract.spec import Contract, Operation
from conformance.settings import Settings

NEGATIVE_EXPECTED = [
    "400",
    "401",
    "403",
    "404",
    "405",
    "406",
    "409",
    "412",
    "413",
    "415",
    "422",
    "428",
    "429",
]
MISSING_HEADER_EXPECTED = ["400", "401", "403", "406", "415", "422", "428"]


def enabled_operations(settings: Settings, contract: Contract) -> list[Operation]:
    """The operations a contract run covers: flagged ones only while their flag is on."""
    operations = []
    for operation in contract.operations:
        if operation.feature_flag and operation.feature_flag not in settings.feature_flags:
            continue
        if settings.operation_filter and operation.operation_id not in settings.operation_filter:
            continue
        operations.append(operation)
    return operations


def schemathesis_config(settings: Settings, base_url: str) -> dict[str, Any]:
    profile = settings.profile
    phases = set(profile.phases)
    return {
        "seed": settings.seed,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large", "large_base_example"],
        "base-url": base_url,
        "request-timeout": settings.request_timeout,
        "max-redirects": 5,
        "max-stream-events": 50,
        "generation": {
            "mode": "all",
            # The run sends real tokens; generated Authorization values would only shadow them.
            "with-security-parameters": False,
            "max-examples": settings.max_examples,
            "database": "none",
            "no-shrink": True,
        },
        "phases": {
            "examples": {"enabled": "examples" in phases},
            "coverage": {"enabled": "coverage" in phases},
            "fuzzing": {"enabled": "fuzzing" in phases},
            "stateful": {
                "enabled": "stateful" in phases and profile.stateful_examples > 0,
                "max-steps": max(profile.stateful_steps, 2),
            },
        },
        "checks": {
            "negative_data_rejection": {"expected-statuses": NEGATIVE_EXPECTED},
            "missing_required_header": {"expected-statuses": MISSING_HEADER_EXPECTED},
        },
        # The stream stays open `wait` seconds; fuzzing it with long waits only burns the budget.
        "parameters": {"wait": 0},
        **_tls(settings),
    }


def _tls(settings: Settings) -> dict[str, Any]:
    """Mutual TLS for Schemathesis' own requests (its auth probes do not use the run's session)."""
    tls = settings.tls
    options: dict[str, Any] = {}
    if tls.ca_path:
        options["tls-verify"] = str(tls.ca_path)
    if tls.cert_path:
        options["request-cert"] = str(tls.cert_path)
    if tls.key_path:
        options["request-cert-key"] = str(tls.key_path)
    return options

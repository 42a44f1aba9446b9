"""The contract's JSON Schemas as validators see them: one referencing registry per contract, the
formats the contract uses (RFC 3339 date-times, UUIDs) and JSON-pointer escaping.

Both the response checks (`classes/protocol/protocol_responses.py`) and the validity of generated
requests (`checks/validity.py`) judge against these, so they live below both.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import Any

from jsonschema import FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance.contract.spec import Contract

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _rfc3339(value: object) -> bool:
    if not isinstance(value, str) or not RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    except ValueError:
        return False
    return True


def _uuid(value: object) -> bool:
    return isinstance(value, str) and UUID.match(value) is not None


FORMATS = FormatChecker(formats=())
FORMATS.checks("date-time")(_rfc3339)
FORMATS.checks("uuid")(_uuid)


@cache
def contract_registry(contract: Contract) -> Registry[Any]:
    registry: Registry[Any] = Registry().with_resource(
        "urn:phase2", Resource.from_contents(dict(contract.raw), DRAFT202012)
    )
    return registry


def escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")

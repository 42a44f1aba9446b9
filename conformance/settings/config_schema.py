"""The config file's published JSON Schema (`config.schema.json` beside this module), made from the settings table.

The schema says what the file may hold: the known keys (dashes or underscores), each a scalar or, for
a list setting, a string or an array of scalars, every text and list of bounded length, and nothing
nested. The setting's parser then checks the value itself (ranges, URLs, names) and names the key.
`python -m conformance.settings.docs_tables` rewrites the file; a test fails while it differs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.settings import parsers
from conformance.settings.schema import SCHEMA, Kind, Setting

SCHEMA_FILE = Path(__file__).resolve().parent / "config.schema.json"
MAX_TEXT = 4096  # a URL, a path or a shell command; longer is not a setting
MAX_ITEMS = 256
# Parsers of a list: a comma-separated string or an array.
LIST_PARSERS = (parsers.names, parsers.whole_items, parsers.feature_flags, parsers.origins, parsers.modules)
SCALAR = {"type": ["string", "number"], "maxLength": MAX_TEXT}
BOOLEAN = {"type": ["boolean", "string"], "maxLength": 16}
LIST = {
    "type": ["string", "array"],
    "maxLength": MAX_TEXT,
    "maxItems": MAX_ITEMS,
    "items": {"type": ["string", "number"], "maxLength": MAX_TEXT},
}


def value_schema(setting: Setting) -> dict[str, Any]:
    """What the file may give for `setting`, by how its parser reads a value."""
    if setting.kind is Kind.LIST or setting.parse in LIST_PARSERS:
        return LIST
    if setting.parse is parsers.boolean:
        return BOOLEAN
    return SCALAR


def config_schema() -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for setting in SCHEMA:
        if setting.key is None:
            continue
        document = {"description": setting.help, **value_schema(setting)}
        properties[setting.key] = document
        if "-" in setting.key:
            properties[setting.key.replace("-", "_")] = {"$ref": f"#/properties/{setting.key}"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:phase2-conformance:config:1",
        "title": "A phase2-conformance config file (--config)",
        "description": "TOML settings, below flags and the PHASE2_* environment. Keys are the settings' names "
        "with dashes (underscores are read too); generated from conformance/settings/schema.py.",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }


def schema_text() -> str:
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"

"""The README's settings table and the runbook's environment table, generated from the schema.

`python -m conformance.settings.docs_tables [REPO_ROOT]` rewrites both between their markers
(`<!-- settings:begin -->`, `<!-- environment:begin -->`); tests/docs/test_facts.py fails when a
document and the schema disagree. It also rewrites the config file's published JSON Schema
(`settings/config.schema.json`, from `config_schema.py`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from conformance.settings.schema import SCHEMA, Face, Kind, Setting

SECRET_NOTE = " (from the environment or the config file only, never a flag)"


def _code(text: str | None) -> str:
    return f"`{text}`" if text else ""


def _meaning(setting: Setting) -> str:
    return setting.help + (SECRET_NOTE if setting.secret else "")


def _flags(setting: Setting) -> str:
    flags = [*setting.flags]
    if setting.flags and setting.kind is Kind.TOGGLE:
        flags.append("--no-" + setting.flags[0].removeprefix("--"))
    return ", ".join(_code(flag) for flag in flags)


def settings_table() -> str:
    """Every setting: each way to give it, its default and what it means."""
    lines = [
        "| flag | variable | config key | pytest option | default | meaning |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for setting in SCHEMA:
        default = setting.default.text if setting.default is not None else "unset"
        cells = (
            _flags(setting),
            _code(setting.env),
            _code(setting.key),
            _code(setting.option(Face.PYTEST)),
            default,
            _meaning(setting),
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def environment_table() -> str:
    """Every `PHASE2_*` variable, its flag of `run` and what it sets."""
    lines = ["| variable | flag | setting |", "| --- | --- | --- |"]
    for setting in SCHEMA:
        if setting.env:
            lines.append(f"| `{setting.env}` | {_code(setting.option(Face.CLI))} | {_meaning(setting)} |")
    return "\n".join(lines)


BLOCKS: dict[str, tuple[str, Callable[[], str]]] = {
    "README.md": ("settings", settings_table),
    "docs/runbook.md": ("environment", environment_table),
}


def block(text: str, name: str) -> str:
    """The text between `<!-- name:begin -->` and `<!-- name:end -->`, without the blank lines around it."""
    match = re.search(f"<!-- {name}:begin -->(.*?)<!-- {name}:end -->", text, re.S)
    if match is None:
        raise ValueError(f"no {name} block")
    return match.group(1).strip("\n")


def rewritten(text: str, name: str, table: str) -> str:
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block(text, name)  # refuses a document without the markers
    head, rest = text.split(begin, 1)
    return f"{head}{begin}\n{table}\n{end}{rest.split(end, 1)[1]}"


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path.cwd()
    for relative, (name, table) in BLOCKS.items():
        path = root / relative
        text = path.read_text(encoding="utf-8")
        updated = rewritten(text, name, table())
        if updated != text:
            path.write_text(updated, encoding="utf-8")
            print(f"{relative}: {name} table rewritten")
    # The config file's published schema is made from the same table.
    from conformance.settings.config_schema import SCHEMA_FILE, schema_text

    if not SCHEMA_FILE.exists() or SCHEMA_FILE.read_text(encoding="utf-8") != schema_text():
        SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
        print(f"{SCHEMA_FILE.name} rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

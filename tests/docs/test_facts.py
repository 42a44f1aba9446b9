"""Figures and lists the README and the runbook state that the code knows: pinned to the code.

The fault count, the requirement count, the exit codes, the profiles and the `PHASE2_*` variables
(with their flags) are read from the code here; a change on either side without the other fails.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from conformance.cli import build_parser
from conformance.client.reproduction import TOKEN_VARIABLE
from conformance.contract import load_catalog
from conformance.errors import ExitCode
from conformance.profiles import PROFILES
from conformance.runner.signals import HANDLED
from conformance.settings import ENVIRONMENT
from conformance.settings.docs_tables import block, environment_table, settings_table
from phase2_reference.testing.faults import REGISTRY as FAULTS

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")
RUNBOOK = (REPO / "docs" / "runbook.md").read_text(encoding="utf-8")


def _between(text: str, name: str) -> str:
    match = re.search(f"<!-- {name}:begin -->(.*?)<!-- {name}:end -->", text, re.S)
    assert match, f"no {name} block"
    return match.group(1)


def _table_rows(block: str) -> list[list[str]]:
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in block.splitlines() if "|" in line]
    return rows[2:]  # the header and its rule first


def _run_options() -> dict[str, str]:
    """Every option of `run`: flag → the setting it sets."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    run = subparsers.choices["run"]
    return {flag: action.dest for action in run._actions for flag in action.option_strings}


def test_the_runbook_lists_every_environment_variable_with_its_real_flag() -> None:
    rows = _table_rows(_between(RUNBOOK, "environment"))
    listed = {row[0].strip("`"): row[1].strip("`") for row in rows}
    assert set(listed) == set(ENVIRONMENT), "the runbook's PHASE2_* table differs from the settings schema"
    options = _run_options()
    for variable, flag in listed.items():
        if flag:
            assert options.get(flag) == ENVIRONMENT[variable], (
                f"{variable}: {flag} does not set {ENVIRONMENT[variable]}"
            )


def test_the_readme_settings_table_is_the_schema() -> None:
    """Regenerate with `python -m conformance.settings.docs_tables` after changing conformance/settings/schema.py."""
    assert block(README, "settings") == settings_table(), "README.md's settings table differs from the schema"


def test_the_runbook_environment_table_is_the_schema() -> None:
    assert block(RUNBOOK, "environment") == environment_table(), "the runbook's PHASE2_* table differs from the schema"


def test_every_phase2_variable_named_anywhere_exists() -> None:
    # The reproductions' `$PHASE2_TOKEN` is read by the user's shell (curl), not by the suite.
    known = set(ENVIRONMENT) | {TOKEN_VARIABLE}
    for name, text in (("README.md", README), ("docs/runbook.md", RUNBOOK)):
        named = set(re.findall(r"PHASE2_[A-Z_]*[A-Z]", text))
        # `PHASE2_OTHER_TENANT_CLIENT_ID/_SECRET` abbreviates two variables; `_ID` alone is a prefix of both.
        unknown = {v for v in named - known if not any(k.startswith(v + "_") for k in known)}
        assert not unknown, f"{name} names variables the suite does not read: {sorted(unknown)}"


def test_the_fault_count_is_the_registry_size() -> None:
    stated = re.findall(r"faults\.py` (?:lists|holds) (\d+)", README) + re.findall(r"all (\d+) are caught", README)
    assert len(stated) >= 3, stated
    assert {int(n) for n in stated} == {len(FAULTS)}, f"README states {stated}, faults.py has {len(FAULTS)}"


def test_the_requirement_count_is_the_catalog_size() -> None:
    stated = re.findall(r"\((\d+) requirements", README)
    assert stated and {int(n) for n in stated} == {len(load_catalog())}


def _codes(cell: str) -> set[int]:
    return {int(code) for code in cell.split(",")}


def test_exit_code_tables_match_the_error_tree() -> None:
    # The error tree's codes, and 128 + the number of each signal that interrupts a run.
    codes = {int(code) for code in ExitCode} | {128 + int(signum) for signum in HANDLED}
    runbook_codes = set().union(*(_codes(row[0]) for row in _table_rows(_between(RUNBOOK, "exit-codes"))))
    assert runbook_codes == codes
    header = "| exit | verdict | when |"
    readme_table = README.split(header, 1)[1].split("\n\n", 1)[0]
    assert set().union(*(_codes(row[0]) for row in _table_rows(header + readme_table))) == codes


def test_every_profile_is_documented() -> None:
    profiles_paragraph = README.split("Profiles: ", 1)[1].split("\n\n", 1)[0]
    row = next(row for row in _table_rows(_between(RUNBOOK, "environment")) if row[0] == "`PHASE2_PROFILE`")
    for name in PROFILES:
        assert f"`{name}`" in profiles_paragraph, f"README does not describe the {name} profile"
        assert f"`{name}`" in row[2], f"the runbook does not list the {name} profile"


def test_readme_links_the_runbook_first_and_ends_its_first_run_with_the_doctor() -> None:
    first_screen = README.split("\n## ", 1)[0]
    assert "(docs/runbook.md)" in first_screen
    first_run = README.split("## Two commands", 1)[1].split("\n## ", 1)[0].strip()
    last_paragraph = first_run.split("\n\n")[-1]
    assert last_paragraph.lower().startswith("next: `phase2-conformance doctor` against your deployment")


def test_the_runbook_diagram_names_the_reference_layers_that_exist() -> None:
    diagram = RUNBOOK.split("```mermaid", 1)[1].split("```", 1)[0]
    folders = re.findall(r"\(([a-z_]+)/\)", diagram)
    assert folders, "the diagram names no folder"
    missing = [folder for folder in folders if not (REPO / "phase2_reference" / folder / "__init__.py").is_file()]
    assert not missing, f"the diagram names layers the reference does not have: {missing}"
    layers = ["gateway", "orchestrator", "engine plugins", "event bus", "data store"]
    positions = [re.search(rf'\[\(?"{layer}', diagram) for layer in layers]
    assert all(positions), "a layer is missing from the diagram"
    starts = [match.start() for match in positions if match]
    assert starts == sorted(starts), "the layers are not drawn in their order"


def test_the_event_types_of_the_runbook_are_the_contracts() -> None:
    from conformance.contract import load_contract

    enum = set(load_contract().raw["components"]["schemas"]["EventType"]["enum"])
    named = set(re.findall(r"`((?:world|runtime)\.[a-z_]+)`", RUNBOOK))
    assert named == enum, f"runbook names {sorted(named - enum)}, omits {sorted(enum - named)}"


def test_the_smoke_cap_is_the_profiles() -> None:
    cap = f"{PROFILES['smoke'].time_budget:g}"
    assert f"capped at {cap} s" in README
    assert f"a hard cap of {cap} seconds" in RUNBOOK


def test_every_dependency_of_the_suite_says_why_in_the_readme() -> None:
    project = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    suite = project.split("# the suite", 1)[1].split("# the reference server", 1)[0]
    names = re.findall(r'^\s*"([A-Za-z0-9_.-]+)', suite, re.MULTILINE)
    table = README.split("| package | why |", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`([A-Za-z0-9_.-]+)(?:\[[a-z]+\])?`", table))
    assert names and not set(names) - listed, f"README does not say why it needs {sorted(set(names) - listed)}"

"""Tests mirror the package: `conformance/<path>/<name>.py` is tested by
`tests/conformance/<path>/test_<name>.py`.

A module without its own test module must be in `WITHOUT_OWN_TESTS` with the reason, and the list
only shrinks: an entry whose module gained a test module (or is gone) fails too, so it is removed.
Package `__init__.py` files are not held to it (the package's test modules cover them).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAULT_CORPUS = "proven by tests/test_fault_corpus.py (fails against the fault breaking each rule)"

# module (relative to the repository root) → why it has no test module of its own, and what covers it.
WITHOUT_OWN_TESTS: dict[str, str] = {
    "conformance/__main__.py": "two lines handing over to cli.main: every `python -m conformance` child "
    "(tests/security/hostile.py, runner/test_shards.py)",
    "conformance/suite/test_contract.py": "a pytest view of the plan's items: tests/conformance/test_plugin.py",
    "conformance/suite/test_scenarios.py": "a pytest view of the plan's items: tests/conformance/test_plugin.py",
    "conformance/suite/test_stateful.py": "a pytest view of the plan's items: tests/conformance/test_plugin.py",
    # Scenario checks: each needs a server that breaks exactly its rule.
    "conformance/classes/auth/scopes.py": f"scenario checks {FAULT_CORPUS}",
    "conformance/classes/auth/tenant_isolation.py": f"scenario checks {FAULT_CORPUS}",
    "conformance/classes/contract/contract_scenarios.py": f"scenario checks {FAULT_CORPUS}",
    "conformance/classes/protocol/crafted_bodies.py": "the bodies of crafted_requests.py: "
    "tests/conformance/classes/protocol/test_crafted_requests.py",
    "conformance/classes/protocol/representations.py": "traffic generators: their requests are judged by the "
    "response checks of test_protocol_responses.py; they verify nothing themselves",
    "conformance/classes/semantic/events.py": f"scenario checks {FAULT_CORPUS} and test_semantic.py",
    "conformance/classes/semantic/flags_and_engine.py": f"scenario checks {FAULT_CORPUS} and test_semantic.py",
    "conformance/classes/semantic/pagination.py": f"scenario checks {FAULT_CORPUS} and test_semantic.py",
    "conformance/classes/semantic/runtimes.py": f"scenario checks {FAULT_CORPUS} and test_semantic.py",
    "conformance/classes/semantic/worlds.py": f"scenario checks {FAULT_CORPUS} and test_semantic.py",
    # The rest: reached through whole runs today; each wants a focused module.
    "conformance/runner/budget.py": "tests/conformance/runner/test_time_budget.py (named for the behaviour)",
    "conformance/runner/cli_run.py": "the CLI's run (the plan through Executor.run_all): tests/conformance/test_cli.py "
    "and every run_suite test",
    # The settings package: every row through the loader and every face, by setting rather than by module.
    **{
        f"conformance/settings/{module}.py": "tests/conformance/test_settings.py (every setting, right and wrong, "
        "through load_settings) and tests/conformance/settings/test_schema.py (the table against the faces)"
        for module in (
            "cli_options",
            "defaults",
            "docs_tables",
            "loader",
            "model",
            "parsers",
            "pytest_options",
            "sources",
        )
    },
}


def _expected_test(module: Path) -> Path:
    relative = module.relative_to(ROOT)
    return ROOT / "tests" / relative.parent / f"test_{relative.name}"


def modules_without_tests() -> list[str]:
    return sorted(
        module.relative_to(ROOT).as_posix()
        for module in (ROOT / "conformance").rglob("*.py")
        if module.name != "__init__.py" and not _expected_test(module).is_file()
    )


def test_every_module_has_its_test_module_or_a_reason() -> None:
    unexplained = [module for module in modules_without_tests() if module not in WITHOUT_OWN_TESTS]
    assert not unexplained, f"give these a tests/ module of their own (or a reason here): {unexplained}"


def test_the_list_of_exceptions_only_shrinks() -> None:
    stale = sorted(set(WITHOUT_OWN_TESTS) - set(modules_without_tests()))
    assert not stale, f"these have a test module now (or are gone): remove them from WITHOUT_OWN_TESTS: {stale}"
    assert all(reason.strip() for reason in WITHOUT_OWN_TESTS.values())


def test_the_rule_maps_a_module_to_its_mirror() -> None:
    assert _expected_test(ROOT / "conformance" / "runner" / "plan.py") == (
        ROOT / "tests" / "conformance" / "runner" / "test_plan.py"
    )
    assert "conformance/recorder.py" not in modules_without_tests()

"""The pytest plugin: `--phase2-*` options, the suite's fixtures, and a verdict for every item.

Inert unless the run collects `conformance.suite` (or a test asks for a `phase2_*` fixture):
installing the package changes nothing for other pytest runs, not even their reports' properties.
State lives in `config.stash`; reports are written once. A run of the suite refuses pytest-xdist:
one verdict needs one session, one target and one set of reports.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conformance.results import Failure
    from conformance.runner.executor import Executor
    from conformance.runner.plan import Plan, WorkItem
    from conformance.runner.session import RunSession
    from conformance.settings import Settings

SESSION = pytest.StashKey["RunSession"]()
ENGINE = pytest.StashKey["Executor"]()
COLLECTED = pytest.StashKey["Plan"]()  # the work items this pytest session collected
WORK = pytest.StashKey["WorkItem"]()  # the work item a pytest item is the view of
SUITE_DIR = Path(__file__).resolve().parent / "suite"

# option dest → settings name; secrets are read from the environment or a config file only.
OPTIONS: dict[str, tuple[str, str]] = {
    "base_url": ("--phase2-base-url", "base URL of the deployment under test (PHASE2_BASE_URL)"),
    "profile": ("--phase2-profile", "quick, standard or nightly (default standard)"),
    "seed": ("--phase2-seed", "seed for generated data; the same seed replays the same run"),
    "classes": ("--phase2-classes", "comma-separated conformance classes to run"),
    "requirements": ("--phase2-requirements", "comma-separated requirement IDs to run"),
    "operations": ("--phase2-operations", "comma-separated operationIds to cover"),
    "feature_flags": ("--phase2-flags", "feature flags enabled on the target (PHASE2_FEATURE_FLAGS)"),
    "auth_provider": ("--phase2-auth-provider", "OAuth2 issuer URL (PHASE2_AUTH_PROVIDER)"),
    "client_id": (
        "--phase2-client-id",
        "client id (PHASE2_CLIENT_ID); the secret comes from PHASE2_CLIENT_SECRET",
    ),
    "report_dir": ("--phase2-report-dir", "where reports go (default reports/<run-id>)"),
    "config": ("--phase2-config", "a TOML config file"),
    "time_budget": ("--phase2-time-budget", "seconds the whole run may take"),
    "fail_on": ("--phase2-fail-on", "must (default) or should"),
    "waivers": ("--phase2-waivers", "a YAML file of accepted failures"),
    "check_modules": ("--phase2-checks-modules", "comma-separated modules of your own checks"),
    "workers": ("--phase2-workers", "work items run at once, in threads (PHASE2_WORKERS)"),
    "shard": ("--phase2-shard", "run part I of N of the plan, I/N (PHASE2_SHARD)"),
    "max_rate": ("--phase2-max-rate", "requests per second to the target, all clients together (PHASE2_MAX_RATE)"),
    "outage_start": ("--phase2-outage-start", "shell command taking a component away (PHASE2_OUTAGE_START)"),
    "outage_end": ("--phase2-outage-end", "shell command bringing it back (PHASE2_OUTAGE_END)"),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("phase2", "Phase 2 conformance")
    for dest, (flag, help_text) in OPTIONS.items():
        group.addoption(flag, dest=f"phase2_{dest}", default=None, help=help_text)
    group.addoption(
        "--phase2-reference",
        dest="phase2_reference",
        action="store_true",
        default=None,
        help="run against the embedded reference server (PHASE2_REFERENCE; without it, give a base URL)",
    )
    group.addoption(
        "--phase2-require-all",
        dest="phase2_require_all",
        action="store_true",
        default=None,
        help="certification: a MUST left unverified fails the gate (PHASE2_REQUIRE_ALL)",
    )


class PreparedSession:
    """Registered by the CLI: a session whose target is already up, probed and authenticated."""

    def __init__(self, session: RunSession) -> None:
        self.session = session


def _session(config: pytest.Config) -> RunSession | None:
    return config.stash.get(SESSION, None)


def _build_session(config: pytest.Config) -> RunSession:
    from conformance.errors import Phase2Error
    from conformance.runner.session import RunSession

    prepared = _prepared(config)
    if prepared is not None:
        return prepared.session
    try:
        return RunSession(active_settings()).prepare()
    except Phase2Error as error:
        pytest.exit(_shown(f"phase2: {error}"), returncode=int(error.exit_code))


@pytest.fixture(scope="session")
def phase2_session(pytestconfig: pytest.Config) -> RunSession:
    session = _session(pytestconfig)
    if session is None:
        session = _build_session(pytestconfig)
        pytestconfig.stash[SESSION] = session
    return session


def contract_schema() -> Any:
    """The Schemathesis schema of the active run, built at collection time.

    Schemathesis parametrizes tests when their module is imported, so the schema cannot come from a
    fixture (its lazy fixture loader also breaks on pytest 9). The base URL is not known yet when
    the reference is started later; every call passes the session's base URL explicitly.
    """
    import schemathesis
    from schemathesis.config import SchemathesisConfig

    from conformance.contract import load_contract
    from conformance.runner.st_config import schemathesis_config

    settings = active_settings()
    contract = load_contract()
    base_url = settings.base_url or "http://127.0.0.1:1/v2"
    wanted = contract_operations(settings)
    if not wanted:
        return None
    config = SchemathesisConfig.from_dict(schemathesis_config(settings, base_url))
    schema = schemathesis.openapi.from_path(contract.path, config=config)
    return schema.include(operation_id=sorted(wanted))


def contract_operations(settings: Settings) -> set[str]:
    """The operationIds the contract tests cover in this run (none when no class needs them)."""
    from conformance.contract import load_contract
    from conformance.runner.st_config import enabled_operations

    if not {"contract", "protocol"} & settings.classes:
        return set()
    return {op.operation_id for op in enabled_operations(settings, load_contract())}


# Settings of the run being collected; test modules read them at import (see `contract_schema`).
_ACTIVE: dict[str, Any] = {}


def active_settings() -> Settings:
    """The settings of the run being collected; a usage error when no run is active (no silent default)."""
    settings: Settings | None = _ACTIVE.get("settings")
    if settings is None:
        from conformance.settings import NO_TARGET

        raise pytest.UsageError(f"phase2: {NO_TARGET}")
    return settings


@pytest.fixture(scope="session")
def phase2_schema(phase2_session: RunSession) -> Any:
    return contract_schema()


@pytest.fixture(scope="session")
def phase2_engine(pytestconfig: pytest.Config, phase2_session: RunSession, phase2_schema: Any) -> Executor:
    """The run's executor over the items pytest collected; with several workers they all start now."""
    engine = pytestconfig.stash.get(ENGINE, None)
    if engine is None:
        from conformance.runner.executor import Executor
        from conformance.runner.plan import Plan

        plan = pytestconfig.stash.get(COLLECTED, Plan(()))
        engine = pytestconfig.stash[ENGINE] = Executor(phase2_session, plan, phase2_schema)
        engine.start()
    return engine


def active_plan() -> Plan:
    """The plan of the run being collected (built once from its settings and the contract)."""
    plan: Plan | None = _ACTIVE.get("plan")
    if plan is None:
        from conformance.checks import load_checks
        from conformance.checks.registry import REGISTRY
        from conformance.contract import load_catalog, load_contract
        from conformance.runner.plan import build_plan
        from conformance.runner.shard import shard_plan
        from conformance.smoke import SMOKE

        settings = active_settings()
        load_checks(settings.check_modules, read_only=settings.profile.name == SMOKE)
        whole = build_plan(settings, load_contract(), load_catalog(), REGISTRY.scenarios())
        _ACTIVE["whole_plan"] = whole
        plan = _ACTIVE["plan"] = shard_plan(whole, settings.shard)
    return plan


def play(node: pytest.Item, engine: Executor, work: WorkItem) -> None:
    """A suite item's body: the engine's outcome of its work item, in pytest's terms.

    Failures of the target are in the recorder; `pytest_runtest_call` turns them into the item's
    failure. A skip is the engine's (with its reason); nothing here rewrites an outcome."""
    from conformance.runner.executor import ItemStatus

    outcome = engine.outcome(work)
    node.user_properties.append(("phase2_duration", outcome.duration))
    if outcome.share_used:
        node.user_properties.append(("phase2_share_used", True))
    if outcome.status is ItemStatus.SKIPPED:
        pytest.skip(_shown(outcome.reason or "not run"))
    if outcome.status is ItemStatus.CRASHED:
        raise ItemCrashed(_shown(outcome.reason or "the item crashed")) from outcome.error


class ItemCrashed(Exception):
    """The engine recorded this item's crash as a run error already; pytest shows it failed."""


def _prepared(config: pytest.Config) -> PreparedSession | None:
    return next((p for p in config.pluginmanager.get_plugins() if isinstance(p, PreparedSession)), None)


@pytest.hookimpl(tryfirst=True)  # before allure-pytest's, which reads --alluredir
def pytest_configure(config: pytest.Config) -> None:
    prepared = _prepared(config)
    if prepared is not None:
        config.stash[SESSION] = prepared.session
        _ACTIVE["settings"] = prepared.session.settings
    elif _collects_suite(config) or any(config.getoption(f"phase2_{dest}") is not None for dest in SETTING_OPTIONS):
        import sys

        from conformance.errors import ConfigError
        from conformance.settings import load_settings

        if _distributed(config):
            # Exit 2, the suite's usage code; before xdist starts a worker (and each its own reference).
            pytest.exit(
                "phase2: the suite runs in one process (one target, one verdict, one set of reports); "
                "drop -n/--dist (pytest-xdist)",
                returncode=2,
            )
        values = {dest: config.getoption(f"phase2_{dest}") for dest in SETTING_OPTIONS}
        try:
            _ACTIVE["settings"] = load_settings(values)
        except ConfigError as error:
            raise pytest.UsageError(f"phase2: {error}") from None
        for warning in _ACTIVE["settings"].warnings:
            sys.stderr.write(f"phase2: warning: {warning}\n")

    report_dir = config.getoption("phase2_report_dir", None)
    if report_dir and hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
        # `pytest --pyargs conformance.suite --phase2-report-dir D` gets Allure results in D too.
        from conformance.reporting.allure import RESULTS_DIR

        config.option.allure_report_dir = str(Path(report_dir) / RESULTS_DIR)


def pytest_unconfigure(config: pytest.Config) -> None:
    _ACTIVE.clear()


SETTING_OPTIONS = (*OPTIONS, "reference", "require_all")


def _collects_suite(config: pytest.Config) -> bool:
    """Whether this pytest run collects `conformance.suite` (by module name or by path)."""
    for argument in config.args:
        name = argument.split("::")[0]
        if config.option.pyargs and (name == "conformance.suite" or name.startswith("conformance.suite.")):
            return True
        path = Path(config.invocation_params.dir, name)
        try:
            path = path.resolve()
        except OSError:
            continue
        if path == SUITE_DIR or SUITE_DIR in path.parents:
            return True
    return False


def _distributed(config: pytest.Config) -> bool:
    numprocesses = getattr(config.option, "numprocesses", None)
    return bool(numprocesses) or getattr(config.option, "dist", "no") != "no"


def _in_suite(item: pytest.Item) -> bool:
    return SUITE_DIR in Path(item.path).parents


def pytest_collectstart(collector: pytest.Collector) -> None:
    # The suite reached by a path `_collects_suite` did not see (a parent directory): without
    # settings it would test nothing, or a target nobody named.
    path = getattr(collector, "path", None)
    outside_a_run = "settings" not in _ACTIVE and _prepared(collector.config) is None
    if path is not None and SUITE_DIR in Path(path).parents and outside_a_run:
        raise pytest.UsageError(
            "phase2: collect the suite as `pytest --pyargs conformance.suite` with --phase2-base-url URL "
            "or --phase2-reference"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    session = _session(item.config)
    if session is None:
        return (yield)
    result = yield
    failures = session.recorder.failures_for_test(work_key(item))
    _label_for_allure(item, session, failures)
    if failures:
        from conformance.waivers import covering, describe

        waivers = [covering(f, session.waivers) for f in failures]
        if all(waivers):
            # Every failure is accepted: the item is an expected failure (Allure shows it skipped,
            # with the waiver), never a pass that hides it.
            pytest.xfail("; ".join(dict.fromkeys(describe(w) for w in waivers if w is not None)))
        lines = [
            _shown(f"{f.requirement_id} {f.operation or ''}: {f.title}{' [waived]' if w else ''}")
            for f, w in zip(failures[:20], waivers, strict=False)
        ]
        raise Nonconformance("nonconformance:\n  " + "\n  ".join(lines))
    return result


def _shown(text: str) -> str:
    """Text for pytest's terminal: what the target wrote is shown, never executed (as on the CLI)."""
    from conformance.reporting.terminal import escape_line

    return escape_line(text)


class Nonconformance(AssertionError):
    """An item recorded failures of the target: the verdict is in the recorder already."""


def _label_for_allure(item: pytest.Item, session: RunSession, failures: list[Failure]) -> None:
    """Class, requirement, operation and severity labels, and failure attachments, per item."""
    from conformance.reporting.allure import allure_active, label_item

    if not allure_active(item.config):
        return
    from conformance.runner.outcome import _unselected_reason

    work = item.stash.get(WORK, None)
    if work is not None and work.scenario is not None:
        requirements = [session.catalog.get(rid) for rid in work.scenario.requirements]
        label_item(
            item.config,
            requirements,
            "(run)",
            failures,
            session.waivers,
            check=work.scenario.name,
            unstable=("work",),
        )
        return
    # Contract items (one per operation) and the stateful item judge responses against the
    # contract and protocol rules; a contract item's operation gives it its own Allure history.
    label = work.operation if work is not None else None
    operation = session.contract.by_label(label) if label else None
    requirements = [
        r
        for r in session.catalog
        if r.cls in ("contract", "protocol")
        and _unselected_reason(r, session.settings) is None
        and (operation is None or r.covers(operation.operation_id))
    ]
    shown = label or ("(stateful sequences)" if item.name == "test_stateful" else "(all operations)")
    label_item(item.config, requirements, shown, failures, session.waivers, unstable=("work",))


def work_key(item: pytest.Item) -> str:
    """A unique id per item: the key of its work item, the same in both faces whatever the rootdir."""
    work = item.stash.get(WORK, None)
    return work.key if work is not None else item.nodeid


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each suite item learns its work item; the suite's items go in the plan's order (scenarios
    first, see `runner.plan.ItemKind`). A stable sort; other projects' tests are left alone."""
    if "plan" not in _ACTIVE:
        return
    plan: Plan = _ACTIVE["plan"]
    stateful = [work for work in plan if work.kind == "stateful"]
    for item in items:
        if not _in_suite(item):
            continue
        callspec = getattr(item, "callspec", None)
        work = callspec.params.get("work") if callspec is not None else None
        if work is None and item.name == "test_stateful" and stateful:
            work = stateful[0]
        if work is not None:
            item.stash[WORK] = work
    order = {work.key: index for index, work in enumerate(plan)}
    if any(WORK in item.stash for item in items):
        items.sort(key=lambda item: order.get(work_key(item), len(order)) if WORK in item.stash else -1)


def pytest_collection_finish(session: pytest.Session) -> None:
    from conformance.runner.plan import Plan

    collected = tuple(item.stash[WORK] for item in session.items if WORK in item.stash)
    if collected:
        session.config.stash[COLLECTED] = Plan(collected)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if _in_suite(item) or _session(item.config) is not None:
        report.user_properties.append(("phase2_test_id", work_key(item)))
    budgeted = _session(item.config)
    if budgeted is not None:
        report.user_properties.append(("phase2_time_left", round(budgeted.budget.time_left, 1)))
    session = _session(item.config)
    if session is not None and report.failed and call.excinfo is not None:
        _record_crash(session, work_key(item), call.excinfo.value)
    if session is not None and (report.when == "call" or (report.when == "setup" and not report.passed)):
        from conformance.results import TestOutcome

        message = None
        if report.skipped and isinstance(report.longrepr, tuple):
            message = str(report.longrepr[2])
        elif report.failed:
            message = session.redactor.text(report.longreprtext[-2000:])
        # The engine's own measure: with several workers an item's wait is not its run time.
        duration: Any = dict(item.user_properties).get("phase2_duration", round(report.duration, 3))
        session.add_test(
            TestOutcome(
                test_id=work_key(item),
                name=item.name,
                outcome="error" if report.when == "setup" and report.failed else report.outcome,
                duration=float(duration),
                message=message,
            )
        )
    return report


def _record_crash(session: RunSession, item_id: str, error: BaseException) -> None:
    """An item that ended on anything but the target's nonconformance leaves the run unverified."""
    from conformance.errors import AuthError, TargetUnreachable

    if isinstance(error, Nonconformance | ItemCrashed):
        return
    if isinstance(error, AuthError | TargetUnreachable):
        session.lose_target(error)
        return
    text = " ".join(str(error).split())[:300] or type(error).__name__
    session.recorder.error(f"{item_id} could not finish: {type(error).__name__}: {text}")


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        # Without this a broken collection would look like "no test was executed".
        _COLLECTION_ERRORS.append(f"collecting {report.nodeid or 'the suite'} failed: {str(report.longrepr)[-500:]}")


_COLLECTION_ERRORS: list[str] = []


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run_session = _session(session.config)
    if run_session is None or hasattr(session.config, "workerinput"):
        return
    from conformance.reporting import write_reports

    engine = session.config.stash.get(ENGINE, None)
    if run_session.signals.received is not None:
        run_session.interrupt()
        if engine is not None:
            engine.stop()  # no item starts any more; the helpers are closed under the running ones
    else:
        run_session.signals.hold()
        if engine is not None:
            engine.stop()
            engine.close()
    while _COLLECTION_ERRORS:
        run_session.recorder.error(_COLLECTION_ERRORS.pop(0))
    if run_session.settings.shard is not None and "whole_plan" in _ACTIVE:
        from conformance.runner.shard import requirements_elsewhere

        run_session.elsewhere = requirements_elsewhere(_ACTIVE["whole_plan"], _ACTIVE["plan"])
    result = run_session.finish()
    from conformance.runner.merge import write_shard

    write_shard(run_session, result)
    try:
        # A broken reporter turns the verdict into an error; the amended result is the run's.
        result = run_session.result = write_reports(result, run_session.settings, redactor=run_session.redactor)
    finally:
        if _prepared(session.config) is None:
            run_session.close()
    session.exitstatus = result.exit_code

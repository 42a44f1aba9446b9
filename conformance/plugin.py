"""The pytest plugin: `--phase2-*` options, the suite's fixtures, and a verdict for every item.

Inert unless the run collects `conformance.suite` (or a test asks for a `phase2_*` fixture):
installing the package changes nothing for other pytest runs, not even their reports' properties.
State lives in `config.stash`; reports are written once, from the engine's `RunResult` (Allure's
too). `-n N` (pytest-xdist) becomes the engine's `--workers N` threads: one verdict needs one
session, one target and one set of reports, so xdist is kept from distributing the suite.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conformance.runner.executor import Executor, ItemOutcome
    from conformance.runner.plan import Plan, WorkItem
    from conformance.runner.session import RunSession
    from conformance.settings import Settings

SETTINGS = pytest.StashKey["Settings"]()  # the run's settings, from its options (set in `pytest_configure`)
PLANS = pytest.StashKey["tuple[Plan, Plan]"]()  # the whole plan and this shard's part, built once
SESSION = pytest.StashKey["RunSession"]()
ENGINE = pytest.StashKey["Executor"]()
OUTCOME: pytest.StashKey[ItemOutcome] = pytest.StashKey()  # what the engine made of a suite item's work item
COLLECTED = pytest.StashKey["Plan"]()  # the work items this pytest session collected
WORK = pytest.StashKey["WorkItem"]()  # the work item a pytest item is the view of
# What failed to collect, for the run's errors.
COLLECTION_ERRORS: pytest.StashKey[list[str]] = pytest.StashKey()
SUITE_DIR = Path(__file__).resolve().parent / "suite"


def pytest_addoption(parser: pytest.Parser) -> None:
    from conformance.settings.pytest_options import add_options

    # Generated from the settings schema: every setting with a flag of `run` (secrets have none).
    add_options(parser.getgroup("phase2", "Phase 2 conformance"))


def _session(config: pytest.Config) -> RunSession | None:
    return config.stash.get(SESSION, None)


def _build_session(config: pytest.Config) -> RunSession:
    from conformance.errors import Phase2Error
    from conformance.runner.session import RunSession

    try:
        return RunSession(_settings(config)).prepare()
    except Phase2Error as error:
        pytest.exit(_shown(f"phase2: {error}"), returncode=int(error.exit_code))


@pytest.fixture(scope="session")
def phase2_session(pytestconfig: pytest.Config) -> RunSession:
    session = _session(pytestconfig)
    if session is None:
        session = _build_session(pytestconfig)
        pytestconfig.stash[SESSION] = session
    return session


def _settings(config: pytest.Config) -> Settings:
    """The settings of the run being collected; a usage error when no run is active (no silent default)."""
    settings = config.stash.get(SETTINGS, None)
    if settings is None:
        from conformance.settings import NO_TARGET

        raise pytest.UsageError(f"phase2: {NO_TARGET}")
    return settings


def _plans(config: pytest.Config) -> tuple[Plan, Plan]:
    """The run's whole plan and the part this shard runs, built once from its settings and the contract."""
    plans = config.stash.get(PLANS, None)
    if plans is None:
        from conformance.runner.shard import plan_for

        plans = config.stash[PLANS] = plan_for(_settings(config))
    return plans


@pytest.fixture(scope="session")
def phase2_schema(pytestconfig: pytest.Config, phase2_session: RunSession) -> Any:
    """The Schemathesis schema of the run (its operations and the profile's generation settings)."""
    from conformance.runner.st_tests import contract_schema

    return contract_schema(_settings(pytestconfig))


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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A suite module's test gets one item per work item of its kind (`ITEM_KIND`), from the plan in
    `config.stash`; with none, the test stays unparametrized and `phase2_work` skips it, saying why."""
    kind = getattr(metafunc.module, "ITEM_KIND", None)
    if kind is None or "phase2_work" not in metafunc.fixturenames or not _in_suite_path(metafunc.definition.path):
        return
    from conformance.runner.plan import ItemKind

    if kind is ItemKind.STATEFUL:
        return  # one item, `test_stateful`: the fixture gives it (see `pytest_collection_modifyitems`)
    items = _plans(metafunc.config)[1].of_kind(kind)
    if items:
        ids = [str(item.operation) if kind is ItemKind.CONTRACT else item.name for item in items]
        metafunc.parametrize("phase2_work", items, ids=ids)


@pytest.fixture
def phase2_work(request: pytest.FixtureRequest) -> WorkItem:
    """The work item of an unparametrized suite test: the stateful item, or a skip saying why there
    is none (no operation, no scenario, or a profile without a stateful phase)."""
    from conformance.runner.plan import ItemKind

    kind = request.module.ITEM_KIND
    items = _plans(request.config)[1].of_kind(kind)
    if kind is ItemKind.STATEFUL and items:
        return items[0]
    profile = _settings(request.config).profile
    if kind is ItemKind.STATEFUL and ("stateful" not in profile.phases or profile.stateful_examples == 0):
        pytest.skip(f"the {profile.name} profile has no stateful phase")
    if kind is ItemKind.SCENARIO:
        pytest.skip("no scenario to run: no scenario check of the selected classes and requirements")
    pytest.skip("no operation to cover: the contract and protocol classes are not selected")


def play(node: pytest.Item, engine: Executor, work: WorkItem) -> None:
    """A suite item's body: the engine's outcome of its work item, in pytest's terms.

    Failures of the target are in the recorder; `pytest_runtest_call` turns them into the item's
    failure. A skip is the engine's (with its reason); nothing here rewrites an outcome."""
    from conformance.runner.executor import ItemStatus

    outcome = node.stash[OUTCOME] = engine.outcome(work)
    if outcome.status is ItemStatus.SKIPPED:
        pytest.skip(_shown(outcome.reason or "not run"))
    if outcome.status is ItemStatus.CRASHED:
        raise ItemCrashed(_shown(outcome.reason or "the item crashed")) from outcome.error


class ItemCrashed(Exception):
    """The engine recorded this item's crash as a run error already; pytest shows it failed."""


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's (trylast), which starts its workers
def pytest_configure(config: pytest.Config) -> None:
    from conformance.settings.pytest_options import option_values

    values = option_values(config)
    if not (_collects_suite(config) or any(value is not None for value in values.values())):
        return
    import sys

    from conformance.errors import ConfigError
    from conformance.runner.rerun import rerun_values
    from conformance.settings import load_settings
    from conformance.settings.schema import Face

    workers = _undistributed(config)
    if workers is not None and values["workers"] is None:
        values["workers"] = str(workers)
    try:
        if values.get("rerun_failed"):
            values = rerun_values(values)  # as `run --rerun-failed` does: only what failed, its seed
        settings = config.stash[SETTINGS] = load_settings(values, face=Face.PYTEST)
    except ConfigError as error:
        raise pytest.UsageError(f"phase2: {error}") from None
    for warning in settings.warnings:
        sys.stderr.write(f"phase2: warning: {warning}\n")


def pytest_report_header(config: pytest.Config) -> str | None:
    """What the run is, in pytest's header (nothing outside a run of the suite)."""
    settings = config.stash.get(SETTINGS, None)
    if settings is None:
        return None
    target = "the embedded reference" if settings.reference else settings.base_url
    return _shown(
        f"phase2: target {target}, profile {settings.profile.name}, seed {settings.seed}, "
        f"{settings.workers} worker thread(s) ({settings.sources.get('workers', 'default')})"
    )


def _undistributed(config: pytest.Config) -> int | None:
    """`-n N` of pytest-xdist as the engine's workers; xdist is switched off for this run.

    xdist would start N processes, each with its own session, target and reports, and no verdict
    of the whole run. The engine runs the items in N threads of one session instead (threads: a run
    waits on the network). xdist resolved `-n auto` in its `pytest_cmdline_main` already; its
    `pytest_configure` (trylast) starts workers only when `dist` is not "no" and `tx` names some.
    """
    numprocesses = getattr(config.option, "numprocesses", None)
    if not numprocesses and getattr(config.option, "dist", "no") == "no":
        return None
    config.option.numprocesses = 0
    config.option.dist = "no"
    config.option.tx = []
    return int(numprocesses) if isinstance(numprocesses, int) and numprocesses > 0 else None


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


def _in_suite_path(path: Path) -> bool:
    return SUITE_DIR in Path(path).parents


def _in_suite(item: pytest.Item) -> bool:
    return _in_suite_path(item.path)


def pytest_collectstart(collector: pytest.Collector) -> None:
    # The suite reached by a path `_collects_suite` did not see (a parent directory): without
    # settings it would test nothing, or a target nobody named.
    path = getattr(collector, "path", None)
    outside_a_run = SETTINGS not in collector.config.stash
    if path is not None and _in_suite_path(path) and outside_a_run:
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
    if failures:
        from conformance.runner.executor import failure_lines
        from conformance.waivers import covering, describe

        waivers = [covering(f, session.waivers) for f in failures]
        if all(waivers):
            # Every failure is accepted: the item is an expected failure, never a pass that hides it.
            pytest.xfail("; ".join(dict.fromkeys(describe(w) for w in waivers if w is not None)))
        lines = [_shown(line) for line in failure_lines(failures[:20], session.waivers)]
        raise Nonconformance("nonconformance:\n  " + "\n  ".join(lines))
    return result


def _shown(text: str) -> str:
    """Text for pytest's terminal: what the target wrote is shown, never executed (as on the CLI)."""
    from conformance.reporting.terminal import escape_line

    return escape_line(text)


class Nonconformance(AssertionError):
    """An item recorded failures of the target: the verdict is in the recorder already."""


def work_key(item: pytest.Item) -> str:
    """A unique id per item: the key of its work item, the same in both faces whatever the rootdir."""
    work = item.stash.get(WORK, None)
    return work.key if work is not None else item.nodeid


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each suite item learns its work item; the suite's items go in the plan's order (scenarios
    first, see `runner.plan.ItemKind`). A stable sort; other projects' tests are left alone."""
    if PLANS not in config.stash:
        return
    plan = config.stash[PLANS][1]
    stateful = [work for work in plan if work.kind == "stateful"]
    for item in items:
        if not _in_suite(item):
            continue
        callspec = getattr(item, "callspec", None)
        work = callspec.params.get("phase2_work") if callspec is not None else None
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
    session = _session(item.config)
    if session is None:
        return report
    if report.failed and call.excinfo is not None:
        _record_crash(session, work_key(item), call.excinfo.value)
    work, outcome = item.stash.get(WORK, None), item.stash.get(OUTCOME, None)
    if report.when == "call" and work is not None and outcome is not None:
        # The engine's own account of the item, the same as the CLI's (`executor.test_outcome`).
        from conformance.runner.executor import test_outcome

        failures = session.recorder.failures_for_test(work.key)
        session.add_test(test_outcome(work, outcome, failures, session.waivers))
    elif report.when == "call" or (report.when == "setup" and not report.passed):
        from conformance.results import TestOutcome

        message = None
        if report.skipped and isinstance(report.longrepr, tuple):
            message = str(report.longrepr[2])
        elif report.failed:
            message = session.redactor.text(report.longreprtext[-2000:])
        session.add_test(
            TestOutcome(
                test_id=work_key(item),
                name=item.name,
                outcome="error" if report.when == "setup" and report.failed else report.outcome,
                duration=round(report.duration, 3),
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


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    if report.failed and SETTINGS in collector.config.stash:
        # Without this a broken collection would look like "no test was executed".
        errors = collector.config.stash.setdefault(COLLECTION_ERRORS, [])
        errors.append(f"collecting {report.nodeid or 'the suite'} failed: {str(report.longrepr)[-500:]}")
    return report


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    run_session = _session(session.config)
    if run_session is None or hasattr(session.config, "workerinput"):
        return
    from conformance.reporting import write_reports

    engine = session.config.stash.get(ENGINE, None)
    if run_session.signals.received is not None:
        run_session.interrupt()
    else:
        run_session.signals.hold()
    if engine is not None:
        # No item keeps running once the reports are written: stopped, and its thread joined.
        engine.close()
    for error in session.config.stash.get(COLLECTION_ERRORS, []):
        run_session.recorder.error(error)
    if run_session.settings.shard is not None and PLANS in session.config.stash:
        from conformance.runner.shard import requirements_elsewhere

        run_session.elsewhere = requirements_elsewhere(*session.config.stash[PLANS])
    result = run_session.finish()
    from conformance.runner.merge import write_shard

    write_shard(run_session, result)
    try:
        # A broken reporter turns the verdict into an error; the amended result is the run's.
        result = run_session.result = write_reports(result, run_session.settings, redactor=run_session.redactor)
    finally:
        run_session.close()
    session.exitstatus = result.exit_code

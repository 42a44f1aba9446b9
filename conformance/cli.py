"""`phase2-conformance`: run the suite, diagnose a target (`doctor`), serve the reference, list requirements,
bundle and diff reports.

Exit codes: 0 conforms, 1 nonconformance, 2 usage or configuration error, 3 target unreachable
or authentication impossible, 128 + the signal for a run stopped by SIGHUP (129), SIGINT (130) or
SIGTERM (143). Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn

from conformance import __version__
from conformance.client.secrets import Redactor
from conformance.errors import ExitCode, Phase2Error
from conformance.reporting.terminal import GuardedStream

PROG = "phase2-conformance"


class _Parser(argparse.ArgumentParser):
    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        # Each (sub)command refuses what it does not know itself, so it can suggest its own flags.
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}{self._suggestion(extras)}")
        return parsed, extras

    def _suggestion(self, extras: list[str]) -> str:
        from conformance.suggest import did_you_mean

        unknown = next((extra.split("=", 1)[0] for extra in extras if extra.startswith("--")), None)
        if unknown is None:
            return ""
        return did_you_mean(unknown, [flag for action in self._actions for flag in action.option_strings])

    def error(self, message: str) -> NoReturn:
        # One line, exit 2: the usage block is for --help, not for a CI log.
        self.exit(int(ExitCode.USAGE), f"{self.prog}: error: {message}{_choice_hint(message)} (see --help)\n")


def _choice_hint(message: str) -> str:
    """'; did you mean run?' after argparse's "invalid choice: 'rn' (choose from 'run', ...)"."""
    import re

    from conformance.suggest import did_you_mean

    match = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
    return did_you_mean(match.group(1), re.findall(r"'([^']*)'", match.group(2))) if match else ""


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    """The settings' flags, generated from the schema (conformance/settings/schema.py), and -q."""
    from conformance.settings.cli_options import add_setting_arguments

    groups = add_setting_arguments(parser)
    groups["report"].add_argument("-q", "--quiet", action="store_true", help="no progress lines")


def command_run(args: argparse.Namespace) -> int:
    from conformance.reporting.console import ConsoleProgress, print_summary, screen_for
    from conformance.runner.cli_run import run
    from conformance.runner.rerun import rerun_values
    from conformance.settings import configure_logging, load_settings
    from conformance.settings.cli_options import command_line_values

    values = command_line_values(args)
    if values.get("rerun_failed"):
        values = rerun_values(values)
    settings = load_settings(values)
    redactor: Redactor = args.redactor
    for identity in settings.identities:
        redactor.register_client(identity.client_id, identity.client_secret.reveal())
    for warning in settings.warnings:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    configure_logging(settings)
    as_json = getattr(args, "output_format", "text") == "json"
    # Scripts read stdout: with --format json it holds the summary and nothing else.
    screen = screen_for(sys.stderr if as_json else sys.stdout)
    progress = ConsoleProgress(quiet=args.quiet, screen=screen)
    where = "the embedded reference server" if settings.reference else settings.base_url
    screen.line(
        f"{PROG} {__version__}: profile {settings.profile.name}, seed {settings.seed}, target {where}, "
        f"time budget {settings.time_budget:g}s"
    )
    with _hypothesis_storage_elsewhere():
        try:
            result = run(settings, progress=progress, redactor=redactor)
        finally:
            progress.finish()
    print_summary(result, str(settings.report_dir), screen)
    if as_json:
        from conformance.reporting.summary import summary_document

        sys.stdout.write(json.dumps(summary_document(result), indent=2) + "\n")
    return result.exit_code


@contextlib.contextmanager
def _hypothesis_storage_elsewhere() -> Iterator[None]:
    """A run leaves nothing in the directory it was started from.

    Hypothesis keeps a cache of each module's constants under `.hypothesis/` in the working
    directory (its example database is off: `st_config`). Its documented
    `HYPOTHESIS_STORAGE_DIRECTORY` points that at a directory of the run's own, removed at the end.
    """
    if "HYPOTHESIS_STORAGE_DIRECTORY" in os.environ:
        yield  # the caller chose where Hypothesis keeps its files
        return
    with tempfile.TemporaryDirectory(prefix="phase2-hypothesis-") as storage:
        os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = storage
        try:
            yield
        finally:
            os.environ.pop("HYPOTHESIS_STORAGE_DIRECTORY", None)


def command_doctor(args: argparse.Namespace) -> int:
    """Diagnose the target of the same flags as `run`, one line per item (see conformance/doctor)."""
    from conformance.doctor import diagnose
    from conformance.settings import configure_logging, load_settings
    from conformance.settings.cli_options import command_line_values

    settings = load_settings(command_line_values(args))
    configure_logging(settings)
    where = "the embedded reference server" if settings.reference else settings.base_url
    print(f"{PROG} {__version__} doctor: target {where}", flush=True)
    return int(diagnose(settings, out=lambda line: print(line, flush=True)))


def _doctor_command(commands: Any) -> None:
    doctor = commands.add_parser(
        "doctor",
        help="diagnose a deployment in seconds: one line per item, ✓ or ✗ with the fix (takes the flags of run)",
    )
    # The same flags as `run`: replace `run` with `doctor` in a failing command line to diagnose it.
    _run_arguments(doctor)


def command_serve(args: argparse.Namespace, rest: Sequence[str]) -> int:
    # The reference is its own package: exec it rather than import it.
    command = [sys.executable, "-m", "phase2_reference", "serve", *rest]
    try:
        os.execv(sys.executable, command)
    except OSError as exc:
        print(f"{PROG}: error: cannot start the reference server: {exc.strerror}", file=sys.stderr)
    return int(ExitCode.USAGE)


def command_requirements(args: argparse.Namespace) -> int:
    from conformance.checks import load_checks
    from conformance.checks.registry import REGISTRY
    from conformance.contract import load_catalog

    if args.cls:
        from conformance.contract.selection import canonical_class

        args.cls = canonical_class(args.cls, "--class")
    load_checks()
    rows = [
        {
            "id": r.id,
            "level": r.level.value,
            "class": r.cls,
            "statement": r.statement,
            "operations": list(r.operations),
            # Traffic generators feed a requirement's checks; they are listed apart, never as its check.
            "checks": sorted(spec.name for spec in REGISTRY.checks_of(r.id)),
            "traffic": sorted(spec.name for spec in REGISTRY.traffic_for(r.id)),
            "troubleshooting": r.troubleshooting,
        }
        for r in load_catalog()
        if not args.cls or r.cls == args.cls
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(f"{row['id']:<12} {row['level']:<6} {row['class']:<9} {row['statement']}")
            print(f"{'':<29}checks: {', '.join(row['checks']) or '(none)'}")
            if row["traffic"]:
                print(f"{'':<29}traffic: {', '.join(row['traffic'])}")
            print(f"{'':<29}first checks: {row['troubleshooting'] or '(none)'}")
        print(REGISTRY.census())
    return 0


def command_bundle(args: argparse.Namespace) -> int:
    from pathlib import Path

    from conformance.errors import ConfigError
    from conformance.reporting.bundle import create_bundle, verify_bundle

    if args.verify:
        verification = verify_bundle(Path(args.verify))
        if verification.ok:
            print(f"{args.verify}: OK, {verification.files} files match SHA256SUMS and the manifest")
            return 0
        from conformance.reporting.terminal import escape_line

        print(f"{args.verify}: verification FAILED", file=sys.stderr)
        for problem in verification.problems[:50]:
            # Member names are the archive's: one line each, control characters shown.
            print(f"  - {escape_line(problem)[:300]}", file=sys.stderr)
        return int(ExitCode.NONCONFORMANCE)
    if not args.report_dir:
        raise ConfigError("give a report dir to bundle, or --verify FILE")
    output = create_bundle(
        Path(args.report_dir),
        Path(args.output) if args.output else None,
        Path(args.contract_dir) if args.contract_dir else None,
    )
    print(output)
    return 0


def command_diff(args: argparse.Namespace) -> int:
    from pathlib import Path

    from conformance.reporting.diff import diff_summaries, load_summary, render_markdown, render_text

    diff = diff_summaries(load_summary(Path(args.old)), load_summary(Path(args.new)))
    sys.stdout.write(render_markdown(diff) if args.format == "markdown" else render_text(diff))
    return int(ExitCode.NONCONFORMANCE) if diff.regressed else 0


def command_merge(args: argparse.Namespace) -> int:
    """One run of the shards' report dirs: every report, one verdict and its exit code."""
    from pathlib import Path

    from conformance.reporting.console import print_summary, screen_for
    from conformance.runner.merge import merge

    result = merge([Path(directory) for directory in args.directories], Path(args.output))
    print_summary(result, args.output, screen_for(sys.stdout))
    return result.exit_code


def _replay_command(commands: Any) -> None:
    replay = commands.add_parser(
        "replay",
        help="send a failure's request, or every step of its scenario, again: exit 0 when it no longer "
        "reproduces, 1 when it does (takes the target flags of run)",
    )
    replay.add_argument("failure_id", metavar="ID", help="the failure's id, as the console and summary.json show it")
    # The target flags of `run`; --report-dir names the run to read (default: the newest under ./reports).
    _run_arguments(replay)


def command_replay(args: argparse.Namespace) -> int:
    """Replay one failure of a run against the target of the flags (see conformance/replay.py)."""
    import tempfile
    from pathlib import Path

    from conformance.replay import load_failure, replay, replay_session, settings_values, summary_path
    from conformance.settings import configure_logging, load_settings
    from conformance.settings.cli_options import command_line_values

    failure = load_failure(summary_path(args.report_dir), args.failure_id)
    with tempfile.TemporaryDirectory(prefix="phase2-replay-") as scratch:
        # The replay's own files (the reference's log) go to a scratch dir, never into the run's reports.
        settings = load_settings(settings_values(command_line_values(args), failure, Path(scratch)))
        configure_logging(settings)
        redactor: Redactor = args.redactor
        with replay_session(settings, redactor) as session:
            return replay(failure, session, lambda line: print(line, flush=True))


def _token_command(commands: Any) -> None:
    token = commands.add_parser(
        "token",
        help="print a token for the configured client, or a forged one of the test issuer, so a failure's "
        "curl command works: export PHASE2_TOKEN=$(phase2-conformance token ...) (takes the target flags of run)",
    )
    token.add_argument(
        "--kind",
        default="valid",
        help="valid (default: the configured client's), a test-issuer kind (expired, not-yet-valid, wrong-issuer, "
        "wrong-audience, alg-none, alg-confusion, tampered, unknown-kid, issuer-valid, without-scope), "
        "junk-opaque or junk-three-part",
    )
    token.add_argument("--role", default="primary", help="the client: primary (default), other-tenant, read-only")
    token.add_argument("--scope", help="ask for this scope (space-separated)")
    _run_arguments(token)


def command_token(args: argparse.Namespace) -> int:
    """Print one token on stdout (the only thing printed there); see conformance/token_command.py."""
    import tempfile

    from conformance.errors import ConfigError
    from conformance.replay import JUNK, replay_session
    from conformance.settings import configure_logging, load_settings
    from conformance.settings.cli_options import command_line_values
    from conformance.token_command import print_token, token_kinds, write_token

    if args.kind not in token_kinds():
        raise ConfigError(f"--kind {args.kind!r} is not one of {', '.join(token_kinds())}")
    if args.kind in JUNK:
        write_token(JUNK[args.kind]())
        return 0
    values = command_line_values(args)
    with tempfile.TemporaryDirectory(prefix="phase2-token-") as scratch:
        values.update(report_dir=scratch, classes="contract")
        settings = load_settings(values)
        configure_logging(settings)
        with replay_session(settings, args.redactor) as session:
            return print_token(session, args.kind, args.role, args.scope)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Conformance suite for the Phase 2 API.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("run", help="run the suite against a deployment or the embedded reference")
    _run_arguments(run)
    run.add_argument(
        "--format",
        dest="output_format",
        choices=("text", "json"),
        default="text",
        help="json: the run's summary.json on stdout for scripts, everything else on stderr",
    )
    commands.add_parser(
        "serve",
        help="run the reference server in the foreground (arguments go to it; see `serve --help`)",
        add_help=False,
    )
    listing = commands.add_parser("requirements", help="list the requirement catalog and the checks of each")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--class", dest="cls", help="only this class")
    bundle = commands.add_parser(
        "bundle", help="pack a report dir, the contract, catalog and SHA256SUMS in one tar.gz, or verify one"
    )
    bundle.add_argument("report_dir", nargs="?", metavar="REPORT_DIR", help="the report dir of a run")
    bundle.add_argument("-o", "--output", metavar="FILE", help="archive to write (default REPORT_DIR.tar.gz)")
    bundle.add_argument("--verify", metavar="FILE", help="check an archive instead (exit 0 intact, 1 not)")
    bundle.add_argument("--contract-dir", help="the run's phase2.yaml and requirements.yaml (default: ours)")
    diff = commands.add_parser(
        "diff", help="compare two runs: new failures, fixed, still failing, newly skipped (1 on a regression)"
    )
    diff.add_argument("old", metavar="OLD", help="the earlier run: its report dir or summary.json")
    diff.add_argument("new", metavar="NEW", help="the later run: its report dir or summary.json")
    diff.add_argument("--format", choices=("text", "markdown"), default="text")
    merged = commands.add_parser(
        "merge", help="combine the report dirs of a run's shards (--shard I/N) into one: one verdict, one exit code"
    )
    merged.add_argument("directories", nargs="+", metavar="DIR", help="a shard's report dir (with its shard.json)")
    merged.add_argument("-o", "--output", required=True, metavar="DIR", help="where the merged reports go")
    _doctor_command(commands)
    _replay_command(commands)
    _token_command(commands)
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": command_run,
    "requirements": command_requirements,
    "bundle": command_bundle,
    "diff": command_diff,
    "merge": command_merge,
    "doctor": command_doctor,
    "replay": command_replay,
    "token": command_token,
}


def _environment_secrets() -> list[str]:
    """Secrets known before settings are read, so even an error about reading them is masked."""
    return [value for name, value in os.environ.items() if name.startswith("PHASE2_") and "SECRET" in name]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "serve":
        return command_serve(argparse.Namespace(), argv[1:])
    # Everything this command writes to the terminal is masked and has its control characters
    # escaped: the run's redactor learns every token as it is obtained.
    redactor = Redactor(_environment_secrets())
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = GuardedStream(stdout, redactor)
    sys.stderr = GuardedStream(stderr, redactor)
    try:
        return _dispatch(argv, redactor)
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _dispatch(argv: list[str], redactor: Redactor) -> int:
    args = build_parser().parse_args(argv)
    args.redactor = redactor
    try:
        return COMMANDS[args.command](args)
    except Phase2Error as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return int(error.exit_code)
    except KeyboardInterrupt as interrupt:
        from conformance.runner.signals import signal_of

        signum = signal_of(interrupt)
        print(f"{PROG}: interrupted by {signal.Signals(signum).name}", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing left to say.
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())

"""`phase2-conformance`: run the suite, diagnose a target (`doctor`), serve the reference, list requirements,
bundle and diff reports.

Exit codes: 0 conforms, 1 nonconformance, 2 usage or configuration error, 3 target unreachable
or authentication impossible, 128 + the signal for a run stopped by SIGHUP (129), SIGINT (130) or
SIGTERM (143). Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from conformance import __version__
from conformance.client.secrets import Redactor
from conformance.errors import ExitCode, Phase2Error
from conformance.reporting.terminal import GuardedStream

PROG = "phase2-conformance"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, exit 2: the usage block is for --help, not for a CI log.
        self.exit(int(ExitCode.USAGE), f"{self.prog}: error: {message} (see --help)\n")


def _run_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_argument_group("target")
    where = target.add_mutually_exclusive_group()
    where.add_argument("--base-url", help="the deployment under test, e.g. https://api.example/v2 (PHASE2_BASE_URL)")
    where.add_argument(
        "--reference",
        action="store_true",
        default=None,
        help="test the embedded reference server, started as a child process (PHASE2_REFERENCE)",
    )
    target.add_argument(
        "--flags", dest="feature_flags", help="feature flags enabled on the target (PHASE2_FEATURE_FLAGS)"
    )
    target.add_argument("--auth-provider", help="OAuth2 issuer for discovery (PHASE2_AUTH_PROVIDER)")
    target.add_argument("--client-id", help="client id (PHASE2_CLIENT_ID); the secret only from PHASE2_CLIENT_SECRET")
    target.add_argument(
        "--trust-token-origin",
        dest="trust_token_origins",
        action="append",
        metavar="ORIGIN",
        help="also send the client secret to this origin if the provider's metadata names it as issuer or "
        "token endpoint (repeatable; PHASE2_TRUST_TOKEN_ORIGIN)",
    )
    target.add_argument(
        "--tls-cert", dest="tls_cert_path", help="client certificate for mutual TLS (PHASE2_TLS_CERT_PATH)"
    )
    target.add_argument("--tls-key", dest="tls_key_path", help="its private key, if not in the certificate file")
    target.add_argument("--tls-ca", dest="tls_ca_path", help="CA bundle that signs the target's certificate")
    target.add_argument("--request-timeout", type=float, help="seconds per request, first byte to last")
    target.add_argument(
        "--test-issuer-trusted",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the target trusts the suite's test issuer (on for the reference)",
    )
    target.add_argument("--test-issuer-port", type=int, help="port for the test issuer's JWKS (default: any free)")
    target.add_argument("--otlp-receiver-port", type=int, help="port of the suite's OTLP/HTTP receiver (default: any)")
    target.add_argument(
        "--callback-host",
        help="host a remote deployment reaches the suite's test issuer and OTLP receiver at (default 127.0.0.1)",
    )
    target.add_argument(
        "--max-rate",
        type=float,
        help="at most this many requests per second to the target, all clients together (PHASE2_MAX_RATE)",
    )
    target.add_argument(
        "--outage-start",
        metavar="CMD",
        help="shell command that takes a component of the deployment away, for the outage checks (PHASE2_OUTAGE_START)",
    )
    target.add_argument(
        "--outage-end",
        metavar="CMD",
        help="shell command that brings it back (PHASE2_OUTAGE_END); both are needed",
    )
    target.add_argument(
        "--reference-option",
        dest="reference_options",
        action="append",
        help="start the embedded reference with this extra serve option, e.g. --reference-option=--rate-limit=25 "
        "(test-only; repeatable)",
    )
    target.add_argument(
        "--reference-fault",
        dest="reference_faults",
        action="append",
        help="start the reference with this deliberate fault (test-only; repeatable)",
    )

    run = parser.add_argument_group("run")
    run.add_argument("--config", help="a TOML file of settings (lowest precedence after profile defaults)")
    run.add_argument("--profile", help="smoke (read-only, for production), quick, standard (default) or nightly")
    run.add_argument("--seed", type=int, help="seed for generated data; the same seed replays the same run")
    run.add_argument("--classes", help="comma-separated: contract,protocol,semantic,auth,health,telemetry")
    run.add_argument(
        "--requirement", dest="requirements", action="append", help="only this requirement ID (repeatable)"
    )
    run.add_argument("--operation", dest="operations", action="append", help="only this operationId (repeatable)")
    run.add_argument("--time-budget", type=float, help="seconds the whole run may take")
    run.add_argument(
        "--shard",
        help="run part I of N of the plan, I/N (PHASE2_SHARD; read from GitLab, Buildkite or CircleCI parallel jobs); "
        "combine the parts with `merge`",
    )
    run.add_argument(
        "--workers",
        type=int,
        help="work items run at once, in threads (PHASE2_WORKERS; default 1 on loopback, 8 for a remote target)",
    )
    run.add_argument("--max-examples", type=int, help="fuzzing examples per operation")
    run.add_argument("--liveness-budget-ms", type=float, help="p95 budget for /healthz (default 200)")
    run.add_argument("--rerun-failed", metavar="DIR", help="replay only what failed in an earlier run's report dir")
    run.add_argument(
        "--checks-module",
        dest="check_modules",
        action="append",
        help="import your own checks from this module (repeatable; see docs/writing-checks.md)",
    )
    run.add_argument("--log-level", help="debug, info, warning (default), error")

    report = parser.add_argument_group("report")
    report.add_argument("--report-dir", help="where reports go (default reports/<run-id>)")
    report.add_argument("--history-dir", help="earlier runs' summaries, for trends")
    report.add_argument("--waivers", help="YAML file of accepted failures")
    report.add_argument("--fail-on", choices=("must", "should"), help="which failures fail the gate (default must)")
    report.add_argument(
        "--require-all",
        action="store_true",
        default=None,
        help="certification: any MUST left unverified (not applicable, not evaluated) fails (PHASE2_REQUIRE_ALL)",
    )
    report.add_argument("-q", "--quiet", action="store_true", help="no progress lines")


SETTING_KEYS = (
    "base_url",
    "reference",
    "feature_flags",
    "auth_provider",
    "client_id",
    "trust_token_origins",
    "tls_cert_path",
    "tls_key_path",
    "tls_ca_path",
    "request_timeout",
    "test_issuer_trusted",
    "test_issuer_port",
    "otlp_receiver_port",
    "callback_host",
    "reference_faults",
    "reference_options",
    "max_rate",
    "outage_start",
    "outage_end",
    "config",
    "profile",
    "seed",
    "classes",
    "requirements",
    "operations",
    "time_budget",
    "workers",
    "shard",
    "max_examples",
    "liveness_budget_ms",
    "rerun_failed",
    "check_modules",
    "log_level",
    "report_dir",
    "history_dir",
    "waivers",
    "fail_on",
    "require_all",
)


def command_run(args: argparse.Namespace) -> int:
    from conformance.reporting.console import ConsoleProgress, render_summary
    from conformance.runner.cli_run import run
    from conformance.runner.rerun import rerun_values
    from conformance.settings import configure_logging, load_settings

    values: dict[str, Any] = {key: getattr(args, key, None) for key in SETTING_KEYS}
    if values.get("rerun_failed"):
        values = rerun_values(values)
    settings = load_settings(values)
    redactor: Redactor = args.redactor
    for identity in settings.identities:
        redactor.register_client(identity.client_id, identity.client_secret.reveal())
    for warning in settings.warnings:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    configure_logging(settings)
    progress = ConsoleProgress(quiet=args.quiet)
    where = "the embedded reference server" if settings.reference else settings.base_url
    print(
        f"{PROG} {__version__}: profile {settings.profile.name}, seed {settings.seed}, target {where}, "
        f"time budget {settings.time_budget:g}s",
        flush=True,
    )
    result = run(settings, progress=progress, redactor=redactor)
    sys.stdout.write(render_summary(result, str(settings.report_dir)))
    return result.exit_code


def command_doctor(args: argparse.Namespace) -> int:
    """Diagnose the target of the same flags as `run`, one line per item (see conformance/doctor)."""
    from conformance.doctor import diagnose
    from conformance.settings import configure_logging, load_settings

    settings = load_settings({key: getattr(args, key, None) for key in SETTING_KEYS})
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

    from conformance.reporting.console import render_summary
    from conformance.runner.merge import merge

    result = merge([Path(directory) for directory in args.directories], Path(args.output))
    sys.stdout.write(render_summary(result, args.output))
    return result.exit_code


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Conformance suite for the Phase 2 API.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = commands.add_parser("run", help="run the suite against a deployment or the embedded reference")
    _run_arguments(run)
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
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "run": command_run,
    "requirements": command_requirements,
    "bundle": command_bundle,
    "diff": command_diff,
    "merge": command_merge,
    "doctor": command_doctor,
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

"""Allure: results through allure-pytest, labelled by conformance class, requirement and operation.

Three parts:

- **while the run goes**, `label_item` (called by the plugin on every item) adds the labels
  `class` and `requirement` (with a link to the catalog), the `operation` parameter (contract items
  are one per operation but share a name: the parameter gives each its own history id), the
  severity and, for every failure, a step with the request, the response and the curl command;
- **at the end**, `AllureReporter` writes into `<report-dir>/allure-results/` the
  `environment.properties`, `categories.json`, and the Allure history kept in
  `<history-dir>/allure-history`;
- **afterwards**, `python -m conformance.reporting.allure REPORT_DIR --history-dir DIR` builds the
  HTML site with Allure's command line (the tox environment `allure`) and saves the new history.

Severity: an auth MUST is `blocker`, any other MUST `critical`, a SHOULD `minor`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.contract.files import catalog_path
from conformance.reporting import ReportContext, write_atomically
from conformance.reporting.history import ALLURE_HISTORY
from conformance.results import Failure, RecordedExchange, RunResult, Severity
from conformance.waivers import covering

if TYPE_CHECKING:
    import pytest

    from conformance.contract.catalog import Requirement
    from conformance.results import Waiver

RESULTS_DIR = "allure-results"
SITE_DIR = "allure-report"
ALLURE_SEVERITY = {Severity.CRITICAL: "blocker", Severity.MAJOR: "critical", Severity.MINOR: "minor"}
SEVERITY_ORDER = (Severity.CRITICAL, Severity.MAJOR, Severity.MINOR)

CATEGORIES = [
    {
        "name": "Waived nonconformance",
        "description": "Failures a waiver covers: reported, but they do not fail the gate until it expires.",
        "matchedStatuses": ["skipped"],
        "messageRegex": "(?s).*waived.*",
    },
    {
        "name": "Not applicable",
        "matchedStatuses": ["skipped"],
        "messageRegex": "(?s).*not applicable.*",
    },
    {
        "name": "Skipped: time budget exhausted",
        "matchedStatuses": ["skipped"],
        "messageRegex": "(?s).*time budget.*",
    },
    {
        "name": "Nonconformance: the target broke a requirement",
        "matchedStatuses": ["failed"],
        "messageRegex": "(?s).*nonconformance.*",
    },
    {
        "name": "Suite or target errors",
        "description": "The suite could not judge: a crash, a lost target, an unusable token.",
        "matchedStatuses": ["broken"],
    },
]


def catalog_link(requirement_id: str) -> str:
    return f"{catalog_path().resolve().as_uri()}#{requirement_id}"


def _exchange_texts(exchange: RecordedExchange) -> tuple[str, str]:
    request = "\n".join(
        [f"{exchange.method} {exchange.url}", *(f"{k}: {v}" for k, v in exchange.request_headers.items())]
    )
    if exchange.request_body:
        request += "\n\n" + exchange.request_body
    status = exchange.status if exchange.status is not None else "(no response)"
    response = "\n".join([str(status), *(f"{k}: {v}" for k, v in exchange.response_headers.items())])
    if exchange.response_body:
        response += "\n\n" + exchange.response_body
    return request, response


def failure_attachments(failure: Failure) -> list[tuple[str, str]]:
    """(name, text) of what a reader needs to see and replay one failure."""
    attachments = [("failure", f"{failure.requirement_id} {failure.title}\n\n{failure.message}")]
    if failure.exchange is not None:
        request, response = _exchange_texts(failure.exchange)
        attachments += [("request", request), ("response", response)]
    if failure.curl:
        attachments.append(("curl", failure.curl))
    return attachments


def highest_severity(severities: Iterable[Severity]) -> Severity | None:
    present = set(severities)
    return next((s for s in SEVERITY_ORDER if s in present), None)


# --- while the run goes: labels on the pytest items ---------------------------------------------


def allure_active(config: pytest.Config) -> bool:
    return bool(getattr(config.option, "allure_report_dir", None)) and config.pluginmanager.has_plugin(
        "allure_listener"
    )


def label_item(
    config: pytest.Config,
    requirements: Sequence[Requirement],
    operation: str,
    failures: Sequence[Failure],
    waivers: Sequence[Waiver] = (),
    *,
    check: str | None = None,
    unstable: Sequence[str] = (),
) -> None:
    """Labels, parameters, severity and failure attachments on the running item's Allure result.

    `unstable` names pytest parameters whose repr changes between processes (a function's
    address): they are kept for display but left out of the history id, and `check` stands in.
    """
    import allure

    dynamic: Any = allure.dynamic  # allure's decorators are untyped
    _exclude_from_history(config, unstable)
    if check is not None:
        dynamic.parameter("check", check)
    patterns = dict(getattr(config.option, "allure_link_pattern", None) or [])
    for cls in sorted({r.cls for r in requirements}):
        dynamic.label("class", cls)
    for requirement in requirements:
        dynamic.label("requirement", requirement.id)
        url = requirement.id if "requirement" in patterns else catalog_link(requirement.id)
        dynamic.link(url, link_type="requirement", name=requirement.id)
    dynamic.parameter("operation", operation)
    severity = highest_severity([f.severity for f in failures]) or highest_severity(
        Severity.of(r) for r in requirements
    )
    if severity is not None:
        dynamic.severity(allure.severity_level(ALLURE_SEVERITY[severity]))
    for failure in failures:
        waiver = covering(failure, waivers)
        prefix = "waived: " if waiver else ""
        title = f"{prefix}{failure.requirement_id} {failure.operation or '(run)'}: {failure.title}"
        with allure.step(title):
            for name, text in failure_attachments(failure):
                allure.attach(text, name=name, attachment_type=allure.attachment_type.TEXT)


def _exclude_from_history(config: pytest.Config, names: Sequence[str]) -> None:
    # allure.dynamic.parameter cannot mark an existing parameter excluded; the listener's current
    # result can. Best effort: without it history ids are only less stable, never wrong.
    if not names:
        return
    listener = config.pluginmanager.get_plugin("allure_listener")
    test = getattr(getattr(listener, "allure_logger", None), "get_test", lambda _: None)(None)
    for parameter in getattr(test, "parameters", None) or []:
        if parameter.name in names:
            parameter.excluded = True


# --- at the end: files in allure-results ---------------------------------------------------------


def properties_line(key: str, value: str) -> str:
    """One line of a Java properties file (ISO-8859-1 with escapes), as Allure reads it."""

    def escape(text: str, is_key: bool) -> str:
        out = []
        for index, char in enumerate(text):
            if char in "\\=:#!" or (char == " " and (is_key or index == 0)):
                out.append("\\" + char)
            elif char == "\n":
                out.append("\\n")
            elif char == "\r":
                out.append("\\r")
            elif char == "\t":
                out.append("\\t")
            elif ord(char) < 0x20 or ord(char) > 0x7E:
                # \uXXXX per UTF-16 unit: characters outside the BMP become a surrogate pair.
                units = char.encode("utf-16-be", errors="surrogatepass")
                out.extend(f"\\u{int.from_bytes(units[i : i + 2], 'big'):04x}" for i in range(0, len(units), 2))
            else:
                out.append(char)
        return "".join(out)

    return f"{escape(key, True)}={escape(value, False)}"


def environment(result: RunResult) -> dict[str, str]:
    return {
        "target": result.target + (" (embedded reference)" if result.reference else ""),
        "profile": result.profile,
        "seed": str(result.seed),
        "feature_flags": ",".join(result.feature_flags) or "(none)",
        "classes": ",".join(result.classes),
        "fail_on": result.fail_on,
        "contract_sha256": result.contract_sha256,
        "catalog_version": str(result.catalog_version),
        "suite_version": result.suite_version,
        "run_id": result.run_id,
        "verdict": result.verdict.value,
    }


def copy_history_in(history_dir: Path | None, results_dir: Path) -> bool:
    """`<history-dir>/allure-history` → `allure-results/history`, so the site shows trends."""
    if history_dir is None or not (history_dir / ALLURE_HISTORY).is_dir():
        return False
    target = results_dir / "history"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(history_dir / ALLURE_HISTORY, target)
    return True


def save_history(site_dir: Path, history_dir: Path) -> bool:
    """`allure-report/history` → `<history-dir>/allure-history`, for the next run."""
    source = site_dir / "history"
    if not source.is_dir():
        return False
    target = history_dir / ALLURE_HISTORY
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target)
    return True


class AllureReporter:
    name = "allure"

    def write(self, result: RunResult, context: ReportContext) -> Path:
        directory = context.directory / RESULTS_DIR
        directory.mkdir(parents=True, exist_ok=True)
        lines = [properties_line(k, v) for k, v in environment(result).items()]
        write_atomically(directory / "environment.properties", "\n".join(lines) + "\n")
        write_atomically(directory / "categories.json", json.dumps(CATEGORIES, indent=2) + "\n")
        copy_history_in(context.history_dir, directory)
        return directory


# --- afterwards: the Allure site -------------------------------------------------------------------


def find_allure(explicit: str | None = None) -> list[str] | None:
    if explicit:
        return [explicit]
    found = shutil.which("allure")
    return [found] if found else None


def build_site(report_dir: Path, history_dir: Path | None, allure: list[str]) -> Path:
    """Run `allure generate` on a report dir's results; keep its history for the next run."""
    results = report_dir / RESULTS_DIR
    if not results.is_dir():
        raise FileNotFoundError(f"no {RESULTS_DIR} in {report_dir}: run the suite with this report dir first")
    copy_history_in(history_dir, results)
    site = report_dir / SITE_DIR
    subprocess.run([*allure, "generate", "--clean", str(results), "-o", str(site)], check=True)
    if history_dir is not None:
        save_history(site, history_dir)
    return site


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.reporting.allure", description="Build the Allure HTML site of a run."
    )
    parser.add_argument("report_dir", type=Path, help="a run's report dir (holding allure-results/)")
    parser.add_argument("--history-dir", type=Path, help="where Allure's history is kept between runs")
    parser.add_argument("--allure", help="the allure command (default: `allure` on PATH)")
    args = parser.parse_args(argv)
    allure = find_allure(args.allure)
    if allure is None:
        print(
            "allure: command not found; install it with `npm install allure-commandline` (needs Java)",
            file=sys.stderr,
        )
        return 2
    try:
        site = build_site(args.report_dir, args.history_dir, allure)
    except FileNotFoundError as exc:
        print(f"allure: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"allure: `allure generate` failed with exit code {exc.returncode}", file=sys.stderr)
        return 1
    print(f"Allure site: {site / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

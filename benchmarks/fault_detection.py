"""Fault detection: the suite against Schemathesis' CLI alone, on every broken variant of the reference.

    python -m benchmarks.fault_detection [--jobs 2] [--profile standard] [--st-max-examples 10] [--only NAME ...]

For every fault of `phase2_reference.testing.faults` (each breaks exactly one requirement):

- the suite runs `phase2-conformance run --reference --reference-fault NAME --profile standard`, every
  class and nothing told about the fault, and *detects* it when its requirement is reported failed;
- Schemathesis runs `st run openapi/phase2.yaml --checks all --mode all --phases
  examples,coverage,fuzzing,stateful` against the same variant (started alike, proof configuration of
  benchmarks/schemathesis.toml) and *detects* it when it reports any failure — it has no
  notion of requirements, and the same run on the clean reference passes (the control row).

Prints detection per conformance class for both tools, and the faults each one misses.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from benchmarks.launch import Reference
from benchmarks.schemathesis_cli import st_run_command
from conformance.contract import load_catalog
from phase2_reference.testing.faults import REGISTRY

CLEAN = "(none: the clean reference)"
# Faults that only exist on a deployment with a feature flag on: both tools get that deployment,
# and the suite is told its flags, as a vendor would configure it.
DEPLOYED_FLAGS: dict[str, str] = {"flagged-operation-missing": "world-preview"}


@dataclass
class Outcome:
    fault: str
    requirement: str
    cls: str
    suite: bool
    schemathesis: bool


def suite_detects(fault: str | None, requirement: str | None, profile: str, workdir: Path) -> bool:
    report = workdir / "suite"
    command = [
        sys.executable,
        "-m",
        "conformance",
        "run",
        "-q",
        "--reference",
        "--profile",
        profile,
        "--report-dir",
        str(report),
    ]
    if fault:
        command += ["--reference-fault", fault]
    if fault in DEPLOYED_FLAGS:
        command += ["--flags", DEPLOYED_FLAGS[fault]]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHASE2_", "OTEL_"))}
    subprocess.run(command, capture_output=True, text=True, env=env, cwd=workdir, timeout=900)
    summary = json.loads((report / "summary.json").read_text())
    if requirement is None:
        return bool(summary["verdict"] != "pass")
    return bool(summary["requirements"][requirement]["status"] == "failed")


def schemathesis_detects(fault: str | None, max_examples: int, workdir: Path) -> bool:
    extra = ["--fault", fault] if fault else []
    if fault in DEPLOYED_FLAGS:
        extra += ["--flags", DEPLOYED_FLAGS[fault]]
    reference = Reference(*extra)
    try:
        command = st_run_command(reference.base_url, max_examples, 20261126)
        completed = subprocess.run(command, capture_output=True, text=True, cwd=workdir, timeout=1800)
        return completed.returncode != 0
    finally:
        reference.stop()


def measure(fault: str | None, profile: str, max_examples: int) -> Outcome:
    catalog = load_catalog()
    requirement = REGISTRY[fault].requirement if fault else None
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        ours = suite_detects(fault, requirement, profile, workdir)
        theirs = schemathesis_detects(fault, max_examples, workdir)
    cls = catalog.get(requirement).cls if requirement else "-"
    outcome = Outcome(fault or CLEAN, requirement or "-", cls, ours, theirs)
    # Progress on stderr, so a long run shows where it is and an interrupted one keeps its rows.
    print(f"{outcome.fault} {outcome.requirement}: suite {ours}, st run {theirs}", file=sys.stderr, flush=True)
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--profile", default="standard", help="the suite's profile (default: the release gate)")
    parser.add_argument("--st-max-examples", type=int, default=10)
    parser.add_argument("--only", nargs="*", help="only these faults")
    args = parser.parse_args()
    faults = args.only or sorted(REGISTRY)
    with ThreadPoolExecutor(args.jobs) as pool:
        control = pool.submit(measure, None, args.profile, args.st_max_examples)
        outcomes = list(pool.map(lambda f: measure(f, args.profile, args.st_max_examples), faults))
    clean = control.result()
    print(
        f"control, clean reference: suite {'FAILED' if clean.suite else 'passed'}, "
        f"st run {'FAILED' if clean.schemathesis else 'passed'} (both must pass)\n"
    )
    totals: Counter[str] = Counter()
    suite_hits: Counter[str] = Counter()
    st_hits: Counter[str] = Counter()
    for outcome in outcomes:
        totals[outcome.cls] += 1
        suite_hits[outcome.cls] += outcome.suite
        st_hits[outcome.cls] += outcome.schemathesis
    print("| class | faults | suite detects | st run detects |")
    print("| --- | ---: | ---: | ---: |")
    for cls in sorted(totals):
        print(
            f"| {cls} | {totals[cls]} | {suite_hits[cls]} ({suite_hits[cls] / totals[cls]:.0%}) "
            f"| {st_hits[cls]} ({st_hits[cls] / totals[cls]:.0%}) |"
        )
    n = len(outcomes)
    print(
        f"| **all** | {n} | {sum(suite_hits.values())} ({sum(suite_hits.values()) / n:.0%}) "
        f"| {sum(st_hits.values())} ({sum(st_hits.values()) / n:.0%}) |"
    )
    missed = [o.fault for o in outcomes if not o.suite]
    print(f"\nmissed by the suite: {', '.join(missed) or 'none'}")
    st_missed = [o.fault for o in outcomes if not o.schemathesis]
    print(f"missed by st run: {', '.join(st_missed) or 'none'}")
    print(
        f"caught only by the suite: {sum(1 for o in outcomes if o.suite and not o.schemathesis)}; "
        f"only by st run: {sum(1 for o in outcomes if o.schemathesis and not o.suite)}"
    )
    return 0 if not clean.suite and not clean.schemathesis else 1


if __name__ == "__main__":
    sys.exit(main())

"""`--rerun-failed DIR`: replay only what failed in an earlier run, with that run's seed and profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.errors import ConfigError
from conformance.reporting.diff import load_summary


def rerun_values(values: dict[str, Any]) -> dict[str, Any]:
    """CLI values narrowed to the failed requirements and operations of an earlier run.

    The earlier summary.json is read as hostile (it may be a CI artifact of a fork): inside its
    report dir without following links, bounded, and validated against the published schema
    before any field is used."""
    directory = Path(str(values["rerun_failed"]))
    summary = load_summary(directory, "--rerun-failed:")
    failed = sorted(rid for rid, entry in summary["requirements"].items() if entry["status"] == "failed")
    if not failed:
        raise ConfigError(f"--rerun-failed: nothing failed in {directory}")
    rerun = dict(values)
    rerun["requirements"] = values.get("requirements") or failed
    rerun["seed"] = values.get("seed") if values.get("seed") is not None else summary["seed"]
    rerun["profile"] = values.get("profile") or summary["profile"]
    if not values.get("feature_flags") and summary["feature_flags"]:
        rerun["feature_flags"] = ",".join(summary["feature_flags"])
    return rerun

"""`--rerun-failed DIR`: replay only what failed in an earlier run, with that run's seed and profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.client import bounded
from conformance.errors import ConfigError
from conformance.reporting.diff import MAX_SUMMARY_BYTES, is_summary


def rerun_values(values: dict[str, Any]) -> dict[str, Any]:
    """CLI values narrowed to the failed requirements and operations of an earlier run."""
    directory = Path(str(values["rerun_failed"]))
    path = directory / "summary.json"
    try:
        summary = bounded.loads(bounded.read_file(path, MAX_SUMMARY_BYTES), max_bytes=MAX_SUMMARY_BYTES)
    except (OSError, ValueError):
        raise ConfigError(f"--rerun-failed: {path} is not a summary of an earlier run") from None
    flags = summary.get("feature_flags") if isinstance(summary, dict) else None
    if not is_summary(summary) or not (
        (flags is None or (isinstance(flags, list) and all(isinstance(flag, str) for flag in flags)))
        and isinstance(summary.get("seed"), int | type(None))
    ):
        raise ConfigError(f"--rerun-failed: {path} is not a summary of an earlier run")
    requirements = summary["requirements"]
    failed = sorted(rid for rid, entry in requirements.items() if entry.get("status") == "failed")
    if not failed:
        raise ConfigError(f"--rerun-failed: nothing failed in {directory}")
    rerun = dict(values)
    rerun["requirements"] = values.get("requirements") or failed
    rerun["seed"] = values.get("seed") if values.get("seed") is not None else summary.get("seed")
    rerun["profile"] = values.get("profile") or summary.get("profile")
    if not values.get("feature_flags") and summary.get("feature_flags"):
        rerun["feature_flags"] = ",".join(summary["feature_flags"])
    return rerun

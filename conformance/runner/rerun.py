"""`--rerun-failed DIR`: replay only what failed in an earlier run, with that run's seed and profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.errors import ConfigError


def rerun_values(values: dict[str, Any]) -> dict[str, Any]:
    """CLI values narrowed to the failed requirements and operations of an earlier run."""
    directory = Path(str(values["rerun_failed"]))
    path = directory / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        requirements = summary["requirements"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(f"--rerun-failed: {path} is not a summary of an earlier run") from None
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

"""Which shard of a run this process is: `--shard I/N`, `PHASE2_SHARD`, or the CI's own variables.

A setting like any other (the plan's part is chosen in `runner.shard`). Where no `--shard` or
`PHASE2_SHARD` is given, the CI's own variables are read: GitLab's `CI_NODE_INDEX`/`CI_NODE_TOTAL`
(1-based), Buildkite's `BUILDKITE_PARALLEL_JOB`/`BUILDKITE_PARALLEL_JOB_COUNT` and CircleCI's
`CIRCLE_NODE_INDEX`/`CIRCLE_NODE_TOTAL` (0-based).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from conformance.errors import ConfigError

MAX_SHARDS = 256
_SPELLING = re.compile(r"\s*(\d{1,4})\s*/\s*(\d{1,4})\s*")
# variable of the index, variable of the total, whether the index counts from 0
CI_VARIABLES = (
    ("CI_NODE_INDEX", "CI_NODE_TOTAL", False),  # GitLab `parallel:`
    ("BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", True),
    ("CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", True),
)


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"

    @classmethod
    def parse(cls, value: object, source: str) -> Shard:
        match = _SPELLING.fullmatch(str(value))
        if match is None:
            raise ConfigError(f"shard from {source} must be I/N (say 2/3), got {value!r}")
        index, total = int(match.group(1)), int(match.group(2))
        if not 1 <= total <= MAX_SHARDS or not 1 <= index <= total:
            raise ConfigError(f"shard from {source} must be I/N with 1 <= I <= N <= {MAX_SHARDS}, got {value!r}")
        return cls(index, total)


def shard_from_ci(env: Mapping[str, str]) -> tuple[Shard, str] | None:
    """The shard the CI job is, from its own variables; None outside a parallel CI job."""
    for index_name, total_name, zero_based in CI_VARIABLES:
        if index_name in env and total_name in env:
            source = f"{index_name}/{total_name}"
            index, total = env[index_name].strip(), env[total_name].strip()
            if not (index.isdigit() and total.isdigit()):
                raise ConfigError(f"shard from {source} must be two integers, got {index!r} and {total!r}")
            shard = Shard.parse(f"{int(index) + (1 if zero_based else 0)}/{total}", source)
            return (shard, source) if shard.total > 1 else None
    return None

"""What a load run found: statuses, latencies, CPU, and every violation, as text or JSON."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

from benchmarks.load.config import LoadConfig
from benchmarks.load.model import Violations


@dataclass
class LoadReport:
    config: LoadConfig
    seconds: float
    statuses: Counter[tuple[str, int]]
    latencies: dict[str, list[float]]
    transport_errors: Counter[str]
    violations: Violations
    kills: int
    final_counts: dict[str, dict[str, int]]
    verified_changes: int
    tail_events: int
    walks_completed: int
    uncertain: dict[str, int]
    resumed: int = 0
    server_cpu: float = 0.0  # CPU seconds the server processes used during the load
    generator_cpu: float = 0.0  # and this load generator

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.transport_errors.values())

    @property
    def ok(self) -> bool:
        return not self.violations

    def acknowledged(self, operation: str, status: int) -> int:
        return self.statuses[(operation, status)]

    def percentile(self, fraction: float, operation: str | None = None) -> float:
        """Latency in ms; without an operation, over every request but the event stream (a long poll)."""
        samples = sorted(
            value
            for name, values in self.latencies.items()
            if name == operation or (operation is None and name != "stream_events")
            for value in values
        )
        if not samples:
            return 0.0
        return samples[min(len(samples) - 1, int(fraction * len(samples)))] * 1000.0

    def summary(self) -> dict[str, Any]:
        return {
            "clients": self.config.clients,
            "duration_s": round(self.seconds, 1),
            "kills": self.kills,
            "requests": self.requests,
            "rps": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(self.percentile(0.50), 2),
            "p99_ms": round(self.percentile(0.99), 2),
            "max_ms": round(self.percentile(1.0), 2),
            "status_5xx": sum(count for (_, status), count in self.statuses.items() if status >= 500),
            "transport_errors": sum(self.transport_errors.values()),
            "verified_changes": self.verified_changes,
            "tail_events": self.tail_events,
            "walks_completed": self.walks_completed,
            "final": self.final_counts,
            "uncertain": self.uncertain,
            "resumed_runtimes": self.resumed,
            "server_cpu_s": round(self.server_cpu, 1),
            "generator_cpu_s": round(self.generator_cpu, 1),
            "violations": sum(self.violations.counts.values()),
        }

    def render(self) -> str:
        summary = self.summary()
        lines = [
            f"load: {self.config.clients} clients, {summary['duration_s']} s, 2 tenants, file-backed store, "
            f"runtime step {self.config.runtime_step_ms} ms, seed {self.config.seed}"
            + (f", SIGKILL after {self.config.kill_after} s and restart" if self.config.kill_after else ""),
            f"requests: {summary['requests']} ({summary['rps']}/s), latency p50 {summary['p50_ms']} ms, "
            f"p99 {summary['p99_ms']} ms, max {summary['max_ms']} ms; 5xx: {summary['status_5xx']}; "
            f"unanswered: {summary['transport_errors']}",
            f"CPU during the load: server {summary['server_cpu_s']} s, this generator {summary['generator_cpu_s']} s "
            f"(of {summary['duration_s']} s on {os.cpu_count()} cores)",
            "",
            f"  {'operation':<16}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}  statuses",
        ]
        for operation in sorted(self.latencies):
            statuses = {status: count for (name, status), count in sorted(self.statuses.items()) if name == operation}
            lines.append(
                f"  {operation:<16}{len(self.latencies[operation]):>9}"
                f"{self.percentile(0.5, operation):>9.2f}{self.percentile(0.99, operation):>9.2f}  "
                + " ".join(f"{status}×{count}" for status, count in statuses.items())
            )
        lines.append("")
        for tenant, counts in self.final_counts.items():
            lines.append(
                f"  {tenant}: {counts['worlds']} worlds, {counts['runtimes']} runtimes, {counts['events']} events "
                "walked and matched against the SQLite file"
            )
        lines.append(
            f"  verified: {self.verified_changes} changes each with exactly one event, {self.tail_events} events "
            f"read by tails during the load, {self.walks_completed} concurrent /worlds walks"
        )
        if self.kills:
            lines.append(f"  left unanswered by the kill: {self.uncertain}")
            lines.append(
                f"  runtimes caught mid-transition by the kill that moved on after the restart: {self.resumed}"
            )
        lines.append("")
        if self.violations:
            lines.append(f"VIOLATIONS ({sum(self.violations.counts.values())}):")
            lines.extend("  " + line for line in self.violations.lines())
        else:
            lines.append("violations: 0")
        return "\n".join(lines)

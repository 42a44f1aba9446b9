"""Prometheus metrics in the app's own registry (several apps can share one process).

`phase2_http_requests_total` and `phase2_http_request_duration_seconds` are labelled by method,
route (the contract's path template without /v2, `unmatched` for unknown paths) and status,
and recorded when a response completes.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, choose_encoder, generate_latest

from phase2_reference.testing.faults import ActiveFaults

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self, faults: ActiveFaults, version: str) -> None:
        self.faults = faults
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "phase2_http_requests",
            "HTTP requests answered.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self._duration: Histogram | None = None
        if not faults.active("metrics-missing-histogram"):
            self._duration = Histogram(
                "phase2_http_request_duration_seconds",
                "Time to answer an HTTP request.",
                ["method", "route", "status"],
                buckets=BUCKETS,
                registry=self.registry,
            )
        self.in_flight = Gauge(
            "phase2_http_requests_in_flight", "HTTP requests being answered.", registry=self.registry
        )
        self.stream_clients = Gauge("phase2_event_stream_clients", "Open event streams.", registry=self.registry)
        info = Gauge("phase2_build_info", "The reference server's version.", ["version"], registry=self.registry)
        info.labels(version=version).set(1)
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram | None]] = {}
        self._increment = 2 if faults.active("metrics-double-count") else 1
        self._raw_path_routes = faults.active("metrics-raw-path")

    def route_label(self, route: str, path: str) -> str:
        """The `route` label of a request: its path template, so ids never become label values."""
        return path if self._raw_path_routes else route

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            labels = {"method": method, "route": route, "status": str(status)}
            duration = self._duration.labels(**labels) if self._duration is not None else None
            children = (self._requests.labels(**labels), duration)
            self._children[key] = children
        counter, histogram = children
        counter.inc(self._increment)
        if histogram is not None:
            histogram.observe(seconds)

    def render(self, accept: str) -> tuple[bytes, str]:
        encoder: Callable[[CollectorRegistry], bytes]
        if self.faults.active("metrics-no-openmetrics"):
            encoder, content_type = generate_latest, CONTENT_TYPE_PLAIN_0_0_4
        else:
            encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type

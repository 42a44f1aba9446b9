"""Prometheus metrics, read back with prometheus_client's own parsers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families

from phase2_reference.telemetry.metrics import Metrics
from phase2_reference.testing.faults import ActiveFaults
from tests.phase2_reference.conftest import Api, make_api, trusting_config


@pytest.fixture
def fresh() -> Iterator[Api]:
    yield from make_api(trusting_config())


def samples(api: Api, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    text = api.http.get("/metrics").text
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def count(api: Api, method: str, route: str, status: str) -> float:
    key = (("method", method), ("route", route), ("status", status))
    return samples(api, "phase2_http_requests_total").get(key, 0.0)


def test_the_counter_grows_by_exactly_the_requests_answered(fresh: Api) -> None:
    before = count(fresh, "GET", "/worlds/{world_id}", "404")
    for _ in range(3):
        fresh.request("GET", f"/worlds/{uuid.uuid4()}")
    assert count(fresh, "GET", "/worlds/{world_id}", "404") == before + 3


def test_a_scrape_does_not_count_itself(fresh: Api) -> None:
    first = count(fresh, "GET", "/metrics", "200")
    second = count(fresh, "GET", "/metrics", "200")
    assert second == first + 1


def test_routes_are_templates_and_unknown_paths_one_series(fresh: Api) -> None:
    for _ in range(2):
        world = fresh.create_world()
        fresh.request("GET", f"/worlds/{world['id']}")
        fresh.request("GET", f"/no/such/{uuid.uuid4()}")
    routes = {dict(labels)["route"] for labels in samples(fresh, "phase2_http_requests_total")}
    assert "/worlds/{world_id}" in routes
    assert "/worlds" in routes
    assert "/auth/login" in routes
    assert "unmatched" in routes
    assert not any(route.startswith("/v2") or "-" in route.split("/")[-1] for route in routes if route != "unmatched")


def test_histogram_buckets_are_cumulative_and_end_in_the_count(fresh: Api) -> None:
    for _ in range(5):
        fresh.http.get("/healthz")
    text = fresh.http.get("/metrics").text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    histogram = families["phase2_http_request_duration_seconds"]
    assert histogram.type == "histogram"
    series = ("GET", "/healthz", "200")
    buckets = [
        (float(sample.labels["le"]), sample.value)
        for sample in histogram.samples
        if sample.name.endswith("_bucket")
        and (sample.labels["method"], sample.labels["route"], sample.labels["status"]) == series
    ]
    total = next(
        sample.value
        for sample in histogram.samples
        if sample.name.endswith("_count")
        and (sample.labels["method"], sample.labels["route"], sample.labels["status"]) == series
    )
    values = [value for _, value in sorted(buckets)]
    assert values == sorted(values)
    assert sorted(buckets)[-1] == (float("inf"), total)
    assert total >= 5
    assert families["phase2_http_requests"].type == "counter"


def test_openmetrics_when_asked_for(fresh: Api) -> None:
    response = fresh.http.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.endswith("# EOF\n")
    names = {family.name for family in parse_openmetrics(response.text)}
    assert {"phase2_http_requests", "phase2_http_request_duration_seconds"} <= names
    plain = fresh.http.get("/metrics", headers={"Accept": "text/plain"})
    assert plain.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"


def test_each_app_has_its_own_registry() -> None:
    first = Metrics(ActiveFaults(), "1")
    second = Metrics(ActiveFaults(), "1")
    first.observe("GET", "/healthz", 200, 0.01)

    def requests(metrics: Metrics) -> list[float]:
        families = text_string_to_metric_families(metrics.render("")[0].decode())
        return [s.value for f in families for s in f.samples if s.name == "phase2_http_requests_total"]

    assert requests(first) == [1.0]
    assert requests(second) == []


def test_the_route_label_is_the_template_unless_the_raw_path_fault_is_on() -> None:
    assert Metrics(ActiveFaults(), "1").route_label("/v2/worlds/{world_id}", "/v2/worlds/42") == "/v2/worlds/{world_id}"
    raw = Metrics(ActiveFaults.of(["metrics-raw-path"]), "1")
    assert raw.route_label("/v2/worlds/{world_id}", "/v2/worlds/42") == "/v2/worlds/42"

"""The telemetry class: the metrics parsing helpers, a clean reference run, faults it must catch,
and trace rules left not applicable (never passed) when nothing exports spans."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

import httpx
import pytest

from conformance.classes.telemetry.metrics_and_traces import (
    family_of,
    histogram_problems,
    parse_openmetrics,
    parse_prometheus,
    samples_named,
    total,
)
from tests.conformance.classes.conftest import PlainTarget
from tests.conftest import SuiteRun

TELEMETRY = tuple(f"P2-TEL-{number:03d}" for number in range(1, 11))
EXPOSITION = """\
# HELP phase2_http_requests_total HTTP requests answered.
# TYPE phase2_http_requests_total counter
phase2_http_requests_total{method="GET",route="/worlds/{world_id}",status="404"} 3.0
phase2_http_requests_total{method="GET",route="/healthz",status="200"} 7.0
# HELP phase2_http_request_duration_seconds Time to answer.
# TYPE phase2_http_request_duration_seconds histogram
phase2_http_request_duration_seconds_bucket{le="0.1",method="GET",route="/healthz",status="200"} 5.0
phase2_http_request_duration_seconds_bucket{le="1.0",method="GET",route="/healthz",status="200"} 7.0
phase2_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/healthz",status="200"} 7.0
phase2_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 7.0
phase2_http_request_duration_seconds_sum{method="GET",route="/healthz",status="200"} 0.4
"""


def test_parse_prometheus_reads_counters_and_histograms() -> None:
    families = parse_prometheus(EXPOSITION)
    counter = family_of(families, "phase2_http_requests_total")
    assert counter is not None
    assert counter.type == "counter"
    histogram = family_of(families, "phase2_http_request_duration_seconds_count")
    assert histogram is not None
    assert histogram.type == "histogram"
    assert len(samples_named(families, "phase2_http_request_duration_seconds_bucket")) == 3
    assert total(families, "phase2_http_requests_total", lambda labels: labels["method"] == "GET") == 10.0
    assert total(families, "phase2_http_requests_total", lambda labels: labels["status"] == "404") == 3.0
    assert total(families, "phase2_http_requests_total", lambda labels: labels["status"] == "500") == 0.0


def test_parse_prometheus_refuses_a_garbled_exposition() -> None:
    with pytest.raises(ValueError, match="not Prometheus text format"):
        parse_prometheus("phase2 metrics follow {{{ not an exposition line\n" + EXPOSITION)


def test_parse_openmetrics_needs_its_own_format() -> None:
    openmetrics = EXPOSITION.replace("# TYPE phase2_http_requests_total", "# TYPE phase2_http_requests").replace(
        "# HELP phase2_http_requests_total", "# HELP phase2_http_requests"
    )
    families = parse_openmetrics(openmetrics + "# EOF\n")
    assert family_of(families, "phase2_http_requests_total") is not None
    with pytest.raises(ValueError, match="not OpenMetrics"):
        parse_openmetrics(openmetrics)  # no # EOF
    with pytest.raises(ValueError, match="not OpenMetrics"):
        parse_openmetrics(EXPOSITION + "# EOF\n")  # a 0.0.4 counter family named with _total


def test_histogram_problems_accepts_cumulative_buckets() -> None:
    assert histogram_problems(parse_prometheus(EXPOSITION)) == (1, [])


@pytest.mark.parametrize(
    ("bucket_values", "count", "problem"),
    [
        (("5.0", "2.0", "0.0"), "7.0", "le=1: 2 < 5"),  # per-bucket counts, not cumulative ones
        (("5.0", "7.0", "6.0"), "7.0", "+Inf bucket 6 differs from _count 7"),
        (("5.0", "7.0", "7.0"), "9.0", "+Inf bucket 7 differs from _count 9"),
    ],
)
def test_histogram_problems_names_each_broken_series(
    bucket_values: tuple[str, str, str], count: str, problem: str
) -> None:
    lines = EXPOSITION.splitlines()
    buckets = [i for i, line in enumerate(lines) if "_bucket" in line]
    for index, value in zip(buckets, bucket_values, strict=True):
        lines[index] = lines[index].rsplit(" ", 1)[0] + " " + value
    lines = [line.rsplit(" ", 1)[0] + " " + count if "_count{" in line else line for line in lines]
    series, problems = histogram_problems(parse_prometheus("\n".join(lines) + "\n"))
    assert series == 1
    assert len(problems) == 1
    assert problem in problems[0]
    assert "route='/healthz'" in problems[0]


def test_histogram_problems_needs_an_inf_bucket() -> None:
    without_inf = "\n".join(line for line in EXPOSITION.splitlines() if 'le="+Inf"' not in line) + "\n"
    assert histogram_problems(parse_prometheus(without_inf))[1][0].endswith("no +Inf bucket")


def test_the_reference_passes_the_telemetry_class(run_suite: Callable[..., SuiteRun]) -> None:
    run = run_suite("--reference", "--classes", "telemetry", "--profile", "quick")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert {requirement: run.status(requirement) for requirement in TELEMETRY} == dict.fromkeys(TELEMETRY, "passed")


def test_a_broken_reference_fails_the_telemetry_class(run_suite: Callable[..., SuiteRun]) -> None:
    # Two faults in one server, each breaking one rule: each rule fails, and nothing else does.
    # (Trace faults cost the full wait for spans; the fault corpus test covers them.)
    run = run_suite(
        "--reference",
        *("--reference-fault", "metrics-double-count", "--reference-fault", "request-id-constant"),
        *("--classes", "telemetry", "--profile", "quick"),
        *("--requirement", "P2-TEL-004", "--requirement", "P2-TEL-010"),
        *("--requirement", "P2-TEL-005", "--requirement", "P2-TEL-009"),
    )
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.failed_requirements() == {"P2-TEL-004", "P2-TEL-010"}
    assert run.status("P2-TEL-005") == "passed"
    assert run.status("P2-TEL-009") == "passed"


def test_trace_rules_are_not_applicable_when_nothing_exports_spans(
    run_suite: Callable[..., SuiteRun], plain_reference: PlainTarget
) -> None:
    # A deployment started without OTEL_EXPORTER_OTLP_ENDPOINT: the receiver waits in vain.
    run = run_suite(
        *("--base-url", plain_reference.base_url, "--classes", "telemetry", "--profile", "quick"),
        *("--requirement", "P2-TEL-001", "--requirement", "P2-TEL-007", "--requirement", "P2-TEL-008"),
        env=plain_reference.env,
    )
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.status("P2-TEL-001") == "passed"  # a run that verified nothing is an error
    # The MUST among them is named in the headline with how to enable it, never "conforms".
    assert [u["requirement_id"] for u in run.summary["unverified"]] == ["P2-TEL-007"]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in run.summary["headline"]
    assert "Verdict: PASS with 1 MUST unverified: P2-TEL-007 (" in run.stdout
    for requirement in ("P2-TEL-007", "P2-TEL-008"):
        result = run.summary["requirements"][requirement]
        assert result["status"] == "not-applicable"
        assert "OTEL_EXPORTER_OTLP_ENDPOINT" in result["reason"]


def test_trace_rules_pass_with_spans_exported_as_otlp_json(run_suite: Callable[..., SuiteRun]) -> None:
    run = run_suite(
        *("--reference", "--reference-option=--otlp-encoding=json", "--classes", "telemetry", "--profile", "quick"),
        *("--requirement", "P2-TEL-007", "--requirement", "P2-TEL-008"),
    )
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.status("P2-TEL-007") == "passed"
    assert run.status("P2-TEL-008") == "passed"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_undecodable_export_is_named_in_the_trace_rules_reason(
    run_suite: Callable[..., SuiteRun], plain_reference: PlainTarget
) -> None:
    # A deployment whose exporter writes ids in base64 (the plain protobuf JSON mapping), which
    # OTLP/JSON does not allow: it posts to the receiver for as long as the run lasts.
    port = _free_port()
    body = {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "AAECAwQFBgcICQoLDA0ODw=="}]}]}]}
    done = threading.Event()

    def export_badly() -> None:
        while not done.wait(0.2):
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(f"http://127.0.0.1:{port}/v1/traces", json=body, timeout=2)

    exporter = threading.Thread(target=export_badly, daemon=True)
    exporter.start()
    try:
        run = run_suite(
            *("--base-url", plain_reference.base_url, "--classes", "telemetry", "--profile", "quick"),
            *("--otlp-receiver-port", str(port), "--requirement", "P2-TEL-007", "--requirement", "P2-TEL-008"),
            env=plain_reference.env,
        )
    finally:
        done.set()
        exporter.join(5)
    for requirement in ("P2-TEL-007", "P2-TEL-008"):
        result = run.summary["requirements"][requirement]
        assert result["status"] == "not-applicable", run.stdout
        assert "refused every export" in result["reason"]
        assert "traceId 'AAECAwQFBgcICQoLDA0ODw==' is not hex, as OTLP/JSON requires" in result["reason"]

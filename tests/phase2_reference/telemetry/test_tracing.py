"""Server spans over real OTLP/HTTP protobuf, received by a tiny collector on loopback."""

from __future__ import annotations

from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from tests.phase2_reference.conftest import Collector, make_api, trusting_config

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


def attributes(span: Span) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in span.attributes:
        kind = item.value.WhichOneof("value")
        values[item.key] = getattr(item.value, kind)
    return values


def test_spans_continue_the_callers_trace(collector: tuple[Collector, str]) -> None:
    received, endpoint = collector
    for api in make_api(trusting_config(otlp_endpoint=endpoint)):
        world = api.create_world()
        traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
        response = api.request("GET", f"/worlds/{world['id']}", headers={"traceparent": traceparent})
        assert response.status_code == 200
        [span] = received.wait_for(lambda s: s.trace_id.hex() == TRACE_ID)
        assert span.parent_span_id.hex() == PARENT_ID
        assert span.kind == Span.SPAN_KIND_SERVER
        assert span.name == "GET /worlds/{world_id}"
        assert attributes(span) == {
            "http.request.method": "GET",
            "http.route": "/worlds/{world_id}",
            "http.response.status_code": 200,
            "url.path": f"/v2/worlds/{world['id']}",
            "url.scheme": "http",
            "server.address": "127.0.0.1",
            "server.port": int(api.server.origin.rsplit(":", 1)[1]),
        }
    assert received.paths[0] == "/v1/traces"


def test_a_malformed_traceparent_starts_a_new_trace(collector: tuple[Collector, str]) -> None:
    received, endpoint = collector
    for api in make_api(trusting_config(otlp_endpoint=endpoint)):
        response = api.http.get("/healthz", headers={"traceparent": "00-nothex-zz-01", "X-Request-ID": "malformed-tp"})
        assert response.status_code == 200
        spans = received.wait_for(lambda s: s.name == "GET /healthz")
        assert all(span.trace_id.hex() != TRACE_ID for span in spans)
        assert all(span.parent_span_id == b"" for span in spans)
        unmatched = api.http.get("/nowhere")
        assert unmatched.status_code == 404
        [span] = received.wait_for(lambda s: s.name == "GET unmatched")
        assert attributes(span)["http.response.status_code"] == 404


def test_shutdown_gives_up_on_a_collector_that_keeps_refusing() -> None:
    """A collector answering 503 to every export: without the grace, shutdown would retry for the
    exporter's whole schedule (attempts at about 0, 1, 3 and 7.5 s); with it, the exporter is shut
    at `SHUTDOWN_GRACE_SECONDS`, which ends the retry it waits on."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    from phase2_reference.telemetry.tracing import SHUTDOWN_GRACE_SECONDS, Tracing
    from phase2_reference.testing.faults import ActiveFaults

    attempts: list[str] = []

    class Refusing(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            attempts.append(self.path)
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        tracing = Tracing(f"http://127.0.0.1:{server.server_address[1]}", ActiveFaults(), "test")
        span = tracing.start("GET", {})
        assert span is not None
        tracing.finish(span, method="GET", route="/healthz", status=200, path="/v2/healthz", scheme="http",
                       host="127.0.0.1", port=80)  # fmt: skip
        tracing.shutdown()
    finally:
        server.shutdown()
        server.server_close()
    assert SHUTDOWN_GRACE_SECONDS < 3
    assert 1 <= len(attempts) <= 3, f"{len(attempts)} export attempts: the retries ran their whole schedule"

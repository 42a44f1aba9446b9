"""Pure ASGI middleware around the gateway, outermost first:

    TelemetryMiddleware  metrics, the server span and the access log, from the final response
    FaultMiddleware      applies active response faults (only installed when some are active)
    ErrorMiddleware      an unexpected exception becomes a generic 500 problem, logged, never leaked

Telemetry sits outside the faults so it records what the client actually received.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from phase2_reference.gateway.http import Reply, context_of, send_reply
from phase2_reference.shared.problems import PROBLEM_JSON, ProblemError
from phase2_reference.telemetry.jsonlog import log_access
from phase2_reference.telemetry.metrics import Metrics
from phase2_reference.telemetry.tracing import Tracing
from phase2_reference.testing.faults import ActiveFaults, Exchange

error_logger = logging.getLogger("phase2_reference.errors")


class TelemetryMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, tracing: Tracing) -> None:
        self.app = app
        self.metrics = metrics
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = context_of(scope)
        started = time.perf_counter()
        span = self.tracing.start(context.method, context.headers)
        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            elapsed = time.perf_counter() - started
            status = context.status or 500
            self.metrics.in_flight.dec()
            self.metrics.observe(context.method, self.metrics.route_label(context.route, context.path), status, elapsed)
            if span is not None:
                server = scope.get("server") or ("", 0)
                self.tracing.finish(
                    span,
                    method=context.method,
                    route=context.route,
                    status=status,
                    path=context.path,
                    scheme=scope.get("scheme", "http"),
                    host=str(server[0]),
                    port=int(server[1] or 0),
                )
            log_access(
                request_id=context.request_id,
                method=context.method,
                route=context.route,
                status=status,
                duration_ms=round(elapsed * 1000.0, 3),
                tenant=context.tenant,
            )


class FaultMiddleware:
    def __init__(self, app: ASGIApp, faults: ActiveFaults) -> None:
        self.app = app
        self.mutators = faults.mutators

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = context_of(scope)
        held: Message | None = None
        chunks: list[bytes] = []
        streaming = False

        def exchange_of(start: Message, body: bytes) -> Exchange:
            return Exchange(
                method=context.method,
                path=context.path,
                route=context.route,
                operation_id=context.operation_id,
                request_headers=context.headers,
                status=start["status"],
                headers=[(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in start["headers"]],
                body=body,
            )

        def start_message(exchange: Exchange, *, length: bool) -> Message:
            headers = [(name, value) for name, value in exchange.headers if not (length and name == "content-length")]
            if length:
                headers.append(("content-length", str(len(exchange.body))))
            return {
                "type": "http.response.start",
                "status": exchange.status,
                "headers": [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers],
            }

        async def mutate(message: Message) -> None:
            nonlocal held, streaming
            if message["type"] == "http.response.start":
                content_type = dict(message["headers"]).get(b"content-type", b"")
                if content_type.startswith(b"text/event-stream"):
                    streaming = True
                    exchange = exchange_of(message, b"")
                    for fault in self.mutators:
                        if fault.headers_only and fault.mutate is not None:
                            fault.mutate(exchange)
                    context.status = exchange.status
                    await send(start_message(exchange, length=False))
                else:
                    held = message
                return
            if streaming or held is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            exchange = exchange_of(held, b"".join(chunks))
            for fault in self.mutators:
                if fault.mutate is not None:
                    fault.mutate(exchange)
            # A HEAD answer keeps the Content-Length of its GET twin; a 204 has none.
            context.status = exchange.status
            await send(start_message(exchange, length=context.method != "HEAD" and exchange.status != 204))
            await send({"type": "http.response.body", "body": exchange.body})

        await self.app(scope, receive, mutate)


class ErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except Exception:
            context = context_of(scope)
            error_logger.exception("unhandled error", extra={"request_id": context.request_id, "route": context.route})
            if context.status:
                return  # the response has started; nothing honest can be added to it
            problem = ProblemError(500, "internal-error", "The server could not answer this request.")
            reply = Reply(500, problem.body(context.request_id), content_type=PROBLEM_JSON)
            await send_reply(send, reply, context)

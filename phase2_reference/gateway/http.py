"""The small HTTP vocabulary shared by middleware, gateway and handlers.

`RequestContext` travels in the ASGI scope from the outermost middleware inward; `Call` is what
a handler receives (validated parameters, parsed body, the caller); `Reply` is what it returns.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Receive, Scope, Send

from phase2_reference.oauth.verifier import Principal

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
SCOPE_KEY = "phase2.context"


def header_map(scope: Scope) -> dict[str, str]:
    """Request headers by lower-case name; repeated headers joined with ", " as RFC 9110 §5.3 allows."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


@dataclass(slots=True)
class RequestContext:
    method: str
    path: str
    headers: dict[str, str]
    request_id: str
    route: str = "unmatched"
    operation_id: str | None = None
    tenant: str | None = None
    client_id: str | None = None
    # The status line sent (0 until the response starts); every layer that starts one sets it,
    # so the middleware around needs no wrapper of `send` to learn it.
    status: int = 0

    @classmethod
    def from_scope(cls, scope: Scope) -> RequestContext:
        headers = header_map(scope)
        sent = headers.get("x-request-id")
        request_id = sent if sent is not None and REQUEST_ID.fullmatch(sent) else str(uuid.uuid4())
        return cls(method=scope["method"], path=scope["path"], headers=headers, request_id=request_id)


def context_of(scope: Scope) -> RequestContext:
    context = scope.get(SCOPE_KEY)
    if context is None:
        context = RequestContext.from_scope(scope)
        scope[SCOPE_KEY] = context
    return context


@dataclass(slots=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: AsyncIterator[bytes] | None = None


@dataclass(slots=True)
class Call:
    context: RequestContext
    path: dict[str, Any]
    query: dict[str, Any]
    headers: dict[str, Any]  # the operation's declared header parameters, lower-case names
    body: Any
    principal: Principal | None
    receive: Receive
    scope: Scope

    @property
    def tenant(self) -> str:
        assert self.principal is not None, "protected operations always have a principal"
        return self.principal.tenant


async def send_reply(send: Send, reply: Reply, context: RequestContext) -> None:
    headers: list[tuple[bytes, bytes]] = [(b"x-request-id", context.request_id.encode("latin-1"))]
    if reply.content_type is not None:
        headers.append((b"content-type", reply.content_type.encode("latin-1")))
    if reply.stream is None and reply.status != 204:
        # RFC 9110 §8.6: no Content-Length on a 204.
        headers.append((b"content-length", str(len(reply.body)).encode("latin-1")))
    headers.extend((name.encode("latin-1"), value.encode("latin-1")) for name, value in reply.headers)
    context.status = reply.status
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    if reply.stream is not None:
        async for chunk in reply.stream:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    else:
        # A HEAD answer keeps GET's headers (Content-Length included) but carries no body.
        body = b"" if context.method == "HEAD" else reply.body
        await send({"type": "http.response.body", "body": body})

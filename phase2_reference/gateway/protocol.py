"""uvicorn's httptools protocol, answering unparseable requests with a problem document.

A request the HTTP parser itself rejects (a control character in a header, a broken request
line) never reaches the app; uvicorn answers it with a text/plain 400. Here it is the same 400,
as application/problem+json with an X-Request-ID, like every other error of the reference.
"""

from __future__ import annotations

import uuid

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from phase2_reference.shared.problems import ProblemError


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    def send_400_response(self, msg: str) -> None:
        request_id = str(uuid.uuid4())
        body = ProblemError(400, "bad-request", "The HTTP request could not be parsed.").body(request_id)
        content = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/problem+json\r\n",
                b"x-request-id: " + request_id.encode("ascii") + b"\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()

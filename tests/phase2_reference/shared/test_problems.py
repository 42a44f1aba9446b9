"""Problem documents."""

from __future__ import annotations

import json

from phase2_reference.shared.problems import ProblemError, bad_request, oauth_error, unavailable


def test_document_shape() -> None:
    problem = bad_request("limit is out of range", [{"pointer": "#/query/limit", "detail": "too big"}])
    document = json.loads(problem.body("rid-1"))
    assert document == {
        "type": "https://phase2.example/problems/bad-request",
        "title": "Bad request",
        "status": 400,
        "detail": "limit is out of range",
        "request_id": "rid-1",
        "errors": [{"pointer": "#/query/limit", "detail": "too big"}],
    }


def test_oauth_errors_and_headers() -> None:
    problem = oauth_error(401, "invalid_token", "expired", headers=[("www-authenticate", "Bearer")])
    document = problem.document("r")
    assert document["error"] == "invalid_token"
    assert document["type"].endswith("/invalid-token")
    assert document["title"] == "Invalid token"
    assert problem.headers == [("www-authenticate", "Bearer")]
    assert unavailable().headers == [("retry-after", "1")]
    assert ProblemError(418, "teapot", "no").title == "Error"

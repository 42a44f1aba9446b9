"""The request pipeline: routing, its order of checks, body handling, and hardening against bad input."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.phase2_reference.conftest import Api, make_api, trusting_config

PROBLEM_TYPE = re.compile(r"^https://phase2\.example/problems/[a-z-]+$")


@pytest.fixture
def fresh() -> Iterator[Api]:
    yield from make_api(trusting_config())


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert PROBLEM_TYPE.match(problem["type"])
    assert problem["title"]
    assert problem["status"] == status
    assert problem["detail"]
    assert problem["request_id"] == response.headers["x-request-id"]
    return problem


def test_unknown_paths_are_404_problems(api: Api) -> None:
    for path in ("/nope", "/worlds/", "/v3/worlds", "/worlds/a/b/c"):
        assert_problem(api.request("GET", path), 404)
    assert_problem(api.http.get(api.server.origin + "/"), 404)


def test_undeclared_methods_are_405_with_allow_before_auth(api: Api) -> None:
    cases = {
        ("PUT", "/worlds"): "GET, POST",
        ("DELETE", "/engine"): "GET",
        ("HEAD", "/worlds"): "GET, POST",
        ("OPTIONS", "/runtimes/" + str(uuid.uuid4())): "GET, DELETE",
        ("GET", "/auth/login"): "POST",
        ("POST", "/healthz"): "GET, HEAD",
        ("HEAD", "/metrics"): "GET",
    }
    for (method, path), allow in cases.items():
        response = api.http.request(method, path)
        assert response.status_code == 405, (method, path)
        assert response.headers["allow"] == allow
        if method != "HEAD":
            assert_problem(response, 405)


def test_the_pipeline_checks_in_order(api: Api) -> None:
    big = b"{" + b" " * (1024 * 1024) + b"}"
    # auth comes before parameter, size, media type and body checks
    assert api.http.get("/worlds", params={"limit": "0"}).status_code == 401
    assert api.http.post("/worlds", content=big, headers={"content-type": "text/plain"}).status_code == 401
    # then size (413) before media type (415)
    assert_problem(api.request("POST", "/worlds", content=big, headers={"content-type": "text/plain"}), 413)
    # then media type (415) before parsing (400)
    assert_problem(api.request("POST", "/worlds", content=b"{", headers={"content-type": "text/plain"}), 415)
    # then parsing (400) before body validation (422)
    assert_problem(api.request("POST", "/worlds", content=b"{", headers={"content-type": "application/json"}), 400)
    problem = assert_problem(api.request("POST", "/worlds", json={"name": 5, "colour": "red"}), 422)
    assert {error["pointer"] for error in problem["errors"]} == {"/name", "/colour"}


def test_bodies_over_one_mebibyte_are_413_by_length_or_by_counting(api: Api) -> None:
    limit = 1024 * 1024
    exact = json.dumps({"name": "x", "description": "d"}).encode()
    padded = exact[:-1] + b" " * (limit - len(exact)) + b"}"
    assert len(padded) == limit
    assert api.request("POST", "/worlds", content=padded, headers={"content-type": "application/json"}).status_code in (
        201,
        409,
    )

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "streamed", "description": "'
        for _ in range(17):
            yield b"x" * 65536
        yield b'"}'

    streamed = api.request("POST", "/worlds", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in streamed.request.headers
    assert_problem(streamed, 413)
    over = padded + b" "
    assert_problem(api.request("POST", "/worlds", content=over, headers={"content-type": "application/json"}), 413)


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe{}",
        b'{"name": "\xc3"}',
        b"\xef\xbb\xbf{}",
        b'{"name": NaN}',
        b'{"name": Infinity}',
        b'{"name": "a"',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"name": "\\ud800"}',
        b'{"name": ' + b"9" * 5000 + b"}",
        b"",
    ],
    ids=[
        "bad-utf8",
        "truncated-utf8",
        "bom",
        "nan",
        "infinity",
        "truncated",
        "deep",
        "surrogate",
        "huge-int",
        "empty",
    ],
)
def test_malformed_bodies_are_400(api: Api, raw: bytes) -> None:
    response = api.request("POST", "/worlds", content=raw, headers={"content-type": "application/json"})
    assert_problem(response, 400)


def test_media_type_parameters(api: Api) -> None:
    body = json.dumps({"name": f"charset-{uuid.uuid4().hex[:8]}"}).encode()
    ok = api.request("POST", "/worlds", content=body, headers={"content-type": "application/json; charset=UTF-8"})
    assert ok.status_code == 201
    latin = api.request("POST", "/worlds", content=body, headers={"content-type": "application/json; charset=latin-1"})
    assert_problem(latin, 415)
    missing = api.request("POST", "/worlds", content=body, headers={"content-type": ""})
    assert_problem(missing, 415)


def test_x_request_id_is_echoed_generated_or_refused(api: Api) -> None:
    echoed = api.http.get("/healthz", headers={"X-Request-ID": "abc:DEF.1-2_3"})
    assert echoed.headers["x-request-id"] == "abc:DEF.1-2_3"
    generated = {api.http.get("/healthz").headers["x-request-id"] for _ in range(20)}
    assert len(generated) == 20
    assert all(uuid.UUID(value).version == 4 for value in generated)
    for bad in ("has space", "x" * 129, "semi;colon"):
        response = api.http.get("/healthz", headers={"X-Request-ID": bad})
        problem = assert_problem(response, 400)
        assert response.headers["x-request-id"] != bad
        assert problem["errors"][0]["pointer"] == "#/header/x-request-id"
    assert api.http.head("/healthz", headers={"X-Request-ID": "bad id"}).status_code == 400


def test_query_parameters(api: Api) -> None:
    assert api.request("GET", "/worlds", params={"limit": 2, "unknown": "ignored"}).status_code == 200
    assert api.request("GET", "/worlds", params={"limit": "05"}).status_code == 200
    repeated = api.request("GET", "/worlds?limit=1&limit=2")
    assert_problem(repeated, 400)
    for value in ("", " 1", "1.0", "1e1", "1_0", "٣", "99999999999999999999999999999999999999"):
        assert_problem(api.request("GET", "/worlds", params={"limit": value}), 400)


def test_huge_and_odd_headers_are_4xx(api: Api) -> None:
    assert_problem(api.http.get("/healthz", headers={"X-Request-ID": "a" * 60_000}), 400)
    assert api.http.get("/worlds", headers={"Authorization": "Bearer " + "a" * 60_000}).status_code == 401
    assert api.http.get("/worlds", headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401
    assert api.http.get("/worlds", headers={"Authorization": "Bearer"}).status_code == 401
    # A control character stops the HTTP parser itself; the answer is still a problem document.
    assert_problem(api.http.get("/worlds", headers={"Authorization": "Bearer \x01\x02"}), 400)
    assert_problem(
        api.request(
            "PATCH",
            f"/worlds/{uuid.uuid4()}",
            headers={"If-Match": '"' + "9" * 70 + '"', "Content-Type": "application/merge-patch+json"},
            json={"name": "x"},
        ),
        400,
    )


def test_malformed_input_never_5xx_and_writes_nothing(fresh: Api) -> None:
    world = fresh.create_world()
    runtime = fresh.start_runtime(world["id"])
    fresh.wait_status(runtime["id"], "running")
    before = fresh.request("GET", "/events", params={"limit": 100}).json()["items"]
    world_path = f"/worlds/{world['id']}"
    bodies: list[Any] = [
        None,
        1,
        "x",
        [],
        {},
        {"name": None},
        {"name": ""},
        {"name": "ok", "settings": {"x": 1}},
        {"name": "ok", "labels": {"Bad Key": "v"}},
        {"name": "ok", "settings": {"tick_rate_hz": 0}},
        {"world_id": world["id"]},
        {"world_id": world["id"], "plugin": "x" * 40},
        {"refresh_token": ""},
        {"client_id": "a", "client_secret": "b", "scope": 5},
    ]
    statuses = []
    for body in bodies:
        raw = json.dumps(body).encode()
        for method, path, media in (
            ("POST", "/worlds", "application/json"),
            ("PATCH", world_path, "application/merge-patch+json"),
            ("POST", "/runtimes", "application/json"),
            ("POST", "/auth/refresh", "application/json"),
        ):
            headers = {"content-type": media, "If-Match": '"1"'}
            statuses.append(fresh.request(method, path, content=raw, headers=headers).status_code)
    for path in (
        world_path + "x",
        "/worlds/%00",
        "/worlds/%2F..%2F",
        "/runtimes/%ff%fe",
        "/engine/plugins/%20",
    ):
        statuses.append(fresh.request("GET", path).status_code)
        statuses.append(fresh.request("DELETE", path).status_code)
    assert all(400 <= status < 500 for status in statuses), statuses
    after = fresh.request("GET", "/events", params={"limit": 100}).json()["items"]
    assert after == before
    assert fresh.request("GET", world_path).json() == world


def test_encoded_slashes_never_split_an_id(api: Api) -> None:
    world = api.create_world()
    response = api.request("GET", f"/worlds/{world['id']}%2Fpreview")
    assert response.status_code == 400


def test_deeply_nested_bodies_are_400_never_500(api: Api) -> None:
    # Regression (found by benchmarks/malformed_fuzz.py): a body nested about 970 levels deep passed
    # the parser, then hit the recursion limit while the jsonschema package quoted it in a
    # validation error (or while it was re-encoded for the surrogate check): a 500.
    headers = {"Content-Type": "application/json"}
    for depth in (*range(64, 70), 500, *range(900, 1010), 5000):
        body = b'{"name":"deep","labels":' + b'{"a":' * depth + b'"\\u0041"' + b"}" * depth + b"}"
        assert_problem(api.request("POST", "/worlds", content=body, headers=headers), 400)
    shallow = b'{"name":"deep","labels":' + b'{"a":' * 10 + b"1" + b"}" * 10 + b"}"
    assert_problem(api.request("POST", "/worlds", content=shallow, headers=headers), 422)

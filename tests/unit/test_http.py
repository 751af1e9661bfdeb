"""The shared HTTP plumbing: one error shape, body and size guards, no stack trace on a failure."""

from __future__ import annotations

import base64
import json

import pytest

from retail_platform import http


class Broken(Exception):
    pass


class Gone(Exception):
    pass


def build_app():
    app = http.resolver("POST /echo, GET /boom")
    http.map_errors(app, {Gone: 503})

    @app.post("/echo")
    def echo():
        return {"got": http.json_body(app, 64, '{"x": 1}')}

    @app.get("/boom")
    def boom():
        http.refuse_oversized(app, 16, 32)
        raise Broken("secret internals 4111111111111111")

    @app.get("/gone")
    def gone():
        raise Gone("the model is not trained yet")

    return app


def request(method: str, path: str, body: str | None = None, query: str = "", b64: bool = False) -> dict:
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": method, "path": path}, "stage": "$default"},
        "body": base64.b64encode(body.encode()).decode() if (b64 and body is not None) else body,
        "isBase64Encoded": b64,
    }


def answer(event: dict) -> tuple[int, dict]:
    response = build_app().resolve(event, None)
    return response["statusCode"], json.loads(response["body"])


def test_a_json_object_body_is_returned():
    assert answer(request("POST", "/echo", '{"x": 1}')) == (200, {"got": {"x": 1}})
    assert answer(request("POST", "/echo", '{"x": 2}', b64=True)) == (200, {"got": {"x": 2}})


@pytest.mark.parametrize(
    ("body", "b64", "status", "says"),
    [
        (None, False, 400, 'request body is empty: send a JSON object such as {"x": 1}'),
        ("   ", False, 400, "request body is empty"),
        ("{nope", False, 400, "not valid JSON"),
        ("[1, 2]", False, 400, "must be a JSON object"),
        ("{" + '"k": 1,' * 20 + '"z": 0}', False, 413, "the limit is 64"),
        ("%%%not-base64", True, 400, "does not decode"),
    ],
)
def test_bad_bodies_get_a_4xx_with_the_reason(body, b64, status, says):
    event = request("POST", "/echo", body, b64=b64)
    if b64 and body is not None:
        event["body"] = body  # not valid base64 at all
    got, payload = answer(event)
    assert got == status and says in payload["message"]
    assert payload["error"] == {400: "Bad Request", 413: "Request Entity Too Large"}[status]


def test_oversized_requests_are_refused_before_the_route_runs():
    status, payload = answer(request("GET", "/boom", query="q=" + "a" * 40))
    assert status == 414 and "at most 32 characters" in payload["message"]
    status, payload = answer(request("GET", "/boom", body="x" * 17))
    assert status == 413


def test_an_unexpected_error_is_a_500_without_internals():
    status, payload = answer(request("GET", "/boom"))
    assert status == 500 and payload == {
        "error": "Internal Server Error",
        "message": "internal error; the request id is in the function's log",
    }


def test_mapped_domain_errors_and_unknown_routes():
    assert answer(request("GET", "/gone")) == (
        503,
        {"error": "Service Unavailable", "message": "the model is not trained yet"},
    )
    status, payload = answer(request("DELETE", "/echo"))
    assert status == 404 and "this function serves POST /echo, GET /boom" in payload["message"]


def test_only_http_api_v2_requests_are_http_events():
    assert http.is_http_event(request("GET", "/x"))
    assert not http.is_http_event({"detail-type": "ProdDatasetUpdated", "detail": {}})
    assert not http.is_http_event(["not", "a", "dict"])

"""HTTP API v2 plumbing every AI system's online routes share.

One error shape for every route of the platform: `{"error": "<HTTP reason phrase>", "message": "<what is
wrong>"}`, with the status code of the problem. A handler builds its resolver with `resolver()`, maps its
domain errors to statuses with `map_errors()`, reads JSON bodies with `json_body()` and refuses oversized
requests with `refuse_oversized()`; unexpected exceptions become a 500 without a stack trace (it is in the log).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import BadRequestError as PowertoolsBadRequest
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound

from retail_platform.exceptions import PlatformError
from retail_platform.observability import logger


class HttpError(PlatformError):
    """An answer other than 200, raised from a route: its status and a message for the caller."""

    status = HTTPStatus.BAD_REQUEST

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = HTTPStatus(status)


class BadRequest(HttpError):
    status = HTTPStatus.BAD_REQUEST


class PayloadTooLarge(HttpError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class QueryTooLong(HttpError):
    status = HTTPStatus.REQUEST_URI_TOO_LONG


def error_response(status: int, message: str) -> Response:
    phrase = HTTPStatus(status).phrase
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps({"error": phrase, "message": message}),
    )


def is_http_event(event: Any) -> bool:
    """An API Gateway HTTP API (payload v2.0) request, as opposed to EventBridge or a schedule."""
    return isinstance(event, dict) and event.get("version") == "2.0" and "requestContext" in event


def resolver(routes: str) -> APIGatewayHttpResolver:
    """A resolver that answers unknown routes, HttpErrors and unexpected errors in the platform's shape.

    `routes` names the routes this function serves, for the 404 message (e.g. "GET /pulse, GET /pulse/{country}").
    """
    app = APIGatewayHttpResolver()

    @app.exception_handler(HttpError)
    def _http_error(error: HttpError) -> Response:
        return error_response(error.status, error.message)

    @app.exception_handler(PowertoolsBadRequest)
    def _bad_request(error: PowertoolsBadRequest) -> Response:
        return error_response(400, str(error.msg))

    @app.not_found
    def _no_route(_: RouteNotFound) -> Response:
        event = app.current_event
        return error_response(404, f"unknown route {event.http_method} {event.path}: this function serves {routes}")

    @app.exception_handler(Exception)
    def _unexpected(_: Exception) -> Response:
        logger.exception("unexpected error serving a request")
        return error_response(500, "internal error; the request id is in the function's log")

    return app


def map_errors(app: APIGatewayHttpResolver, statuses: Mapping[type[Exception], int]) -> None:
    """Answer each domain error type with its status and its message (str(error))."""
    for error_type, status in statuses.items():

        def handle(error: Exception, status: int = status) -> Response:
            if status >= 500:
                logger.warning("route unavailable", extra={"error": str(error)[:500]})
            return error_response(status, str(error))

        app.exception_handler(error_type)(handle)


def refuse_oversized(app: APIGatewayHttpResolver, max_body_bytes: int, max_query_chars: int = 2048) -> None:
    """Raise PayloadTooLarge / QueryTooLong for requests past the route's limits (before any work)."""
    raw = app.current_event.raw_event
    if len((raw.get("body") or "").encode("utf-8")) > max_body_bytes:
        raise PayloadTooLarge(f"request body too large: the limit is {max_body_bytes} bytes")
    if len(raw.get("rawQueryString") or "") > max_query_chars:
        raise QueryTooLong(f"query string too long: at most {max_query_chars} characters")


def json_body(app: APIGatewayHttpResolver, max_bytes: int, example: str) -> dict[str, Any]:
    """The request's JSON object body; BadRequest / PayloadTooLarge saying what is wrong otherwise.

    `example` shows the expected body in the message for a missing body, e.g. '{"text": "..."}'.
    """
    raw_event = app.current_event.raw_event
    raw: str | bytes = raw_event.get("body") or ""
    if raw_event.get("isBase64Encoded") and raw:
        try:
            raw = base64.b64decode(raw, validate=True)
        except (ValueError, binascii.Error) as e:
            raise BadRequest("body is marked base64 but does not decode") from e
    data = raw if isinstance(raw, bytes) else raw.encode("utf-8")
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"request body too large: {len(data)} bytes, the limit is {max_bytes}")
    if not data.strip():
        raise BadRequest(f"request body is empty: send a JSON object such as {example}")
    try:
        body = json.loads(data)
    except UnicodeDecodeError as e:
        raise BadRequest("body is not UTF-8 text") from e
    except json.JSONDecodeError as e:
        raise BadRequest(f"body is not valid JSON: {e.msg} at position {e.pos}") from e
    if not isinstance(body, dict):
        raise BadRequest(f"body must be a JSON object, e.g. {example}")
    return body

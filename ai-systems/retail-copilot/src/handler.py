"""retail-copilot Lambda handler: routes by event shape, nothing else.

* HTTP API v2: `POST /copilot/ask` {question, session_id?} and `GET /copilot/sessions/{session_id}`.
* EventBridge `ProdDatasetUpdated` for copilot_mart / country_kpis, or a schedule: the batch path (rebuilds the
  versioned snapshot under models/retail-copilot/ and the copilot_digest under prod).
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from retail_copilot.service import CopilotService

from retail_platform.exceptions import BadEventError
from retail_platform.observability import logger, metrics, tracer

app = APIGatewayHttpResolver()
SERVICE = CopilotService()


def _error(status: int, message: str, **extra: Any) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": message, **extra})


def _json_body(limit: int) -> tuple[dict | None, Response | None]:
    event = app.current_event
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None, _error(400, "body is not valid base64-encoded UTF-8")
    if len(raw.encode("utf-8")) > limit:
        return None, _error(413, f"request body too large: at most {limit} bytes")
    if not raw.strip():
        return None, _error(400, 'body required: {"question": "...", "session_id": "optional"}')
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as e:
        return None, _error(400, f"body is not valid JSON: {e.msg} at position {e.pos}")
    if not isinstance(body, dict):
        return None, _error(400, "body must be a JSON object with a 'question' string")
    return body, None


@app.post("/copilot/ask")
def ask():
    body, problem = _json_body(SERVICE.settings.max_body_bytes)
    if problem:
        return problem
    outcome = SERVICE.validate_ask(body)
    if isinstance(outcome, str):
        return _error(400, outcome)
    question, session_id = outcome
    started = time.perf_counter()
    answer = SERVICE.ask(question, session_id)
    metrics.add_metric(name="CopilotQuestions", unit="Count", value=1)
    metrics.add_metric(name="CopilotLatency", unit="Milliseconds", value=1000 * (time.perf_counter() - started))
    logger.info("answered", extra={"status": answer["status"], "intent": answer["intent"], "turn": answer["turn"]})
    return answer


@app.get("/copilot/sessions/<session_id>")
def get_session(session_id: str):
    problem = SERVICE.validate_session_id(session_id)
    if problem:
        return _error(400, problem)
    found = SERVICE.session(session_id)
    if found is None:
        return _error(404, f"no session {session_id!r} (unknown or expired)")
    return found


@app.not_found
def _no_route(error: NotFoundError) -> Response:
    return _error(404, "unknown route: use POST /copilot/ask or GET /copilot/sessions/{session_id}")


@app.exception_handler(Exception)
def _unexpected(error: Exception) -> Response:
    logger.exception("unexpected error serving a copilot request")
    return _error(500, "internal error; the request id is in the logs")


def _is_http(event: Any) -> bool:
    return isinstance(event, dict) and "requestContext" in event and ("routeKey" in event or "rawPath" in event)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: Any) -> dict:
    if _is_http(event):
        return app.resolve(event, context)
    if not isinstance(event, dict):
        raise BadEventError(f"event must be a JSON object, got {type(event).__name__}")
    detail_type = event.get("detail-type")
    if detail_type == "ProdDatasetUpdated":
        dataset = (event.get("detail") or {}).get("dataset")
        if dataset not in SERVICE.subscribed:
            return {"status": "ignored", "reason": f"retail-copilot does not snapshot {dataset!r}"}
    elif detail_type != "Scheduled Event":
        raise BadEventError(
            "unsupported event: expected an HTTP API v2 request, a ProdDatasetUpdated event or a Scheduled Event"
        )
    logger.info("copilot batch", extra={"trigger": detail_type, "dataset": (event.get("detail") or {}).get("dataset")})
    return SERVICE.rebuild()

"""retail-copilot Lambda handler: declares its routes and the prod datasets it snapshots, nothing else.

* HTTP API v2: `POST /copilot/ask` {question, session_id?} and `GET /copilot/sessions/{session_id}`.
* EventBridge `ProdDatasetUpdated` for copilot_mart / country_kpis, or a schedule: the batch path (rebuilds the
  versioned snapshot under models/retail-copilot/ and the copilot_digest under prod).
"""

from __future__ import annotations

import time
from typing import Any

from retail_copilot.service import CopilotService

from retail_platform import http
from retail_platform.observability import logger, metrics, tracer
from retail_platform.routing import Router

SERVICE = CopilotService()
router = Router("retail-copilot", "POST /copilot/ask, GET /copilot/sessions/{session_id}", consumes=SERVICE.subscribed)
app = router.http


@app.post("/copilot/ask")
def ask():
    body = http.json_body(app, SERVICE.settings.max_body_bytes, '{"question": "...", "session_id": "optional"}')
    outcome = SERVICE.validate_ask(body)
    if isinstance(outcome, str):
        raise http.BadRequest(outcome)
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
        raise http.BadRequest(problem)
    found = SERVICE.session(session_id)
    if found is None:
        raise http.HttpError(f"no session {session_id!r} (unknown or expired)", 404)
    return found


@router.scheduled
@router.dataset_updated
def rebuild(trigger: Any) -> dict:
    logger.info("copilot batch", extra={"dataset": getattr(trigger, "dataset", None)})
    return SERVICE.rebuild()


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: Any) -> dict:
    return router.resolve(event, context)

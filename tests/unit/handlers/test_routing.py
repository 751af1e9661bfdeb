"""The one event router: typed events, consumed datasets, steps, and one refusal shape for everything else."""

from __future__ import annotations

import json

import pytest

from retail_platform.exceptions import BadEventError
from retail_platform.routing import EVERY_DATASET, DatasetUpdated, Router, Scheduled
from tests.support import event


def recording_router(**kwargs) -> tuple[Router, list]:
    calls: list = []
    router = Router("test-fn", **kwargs)
    router.dataset_updated(lambda update: calls.append(update) or {"status": "ran"})
    router.scheduled(lambda trigger: calls.append(trigger) or {"status": "scheduled"})
    return router, calls


def test_a_consumed_dataset_gets_its_typed_event():
    router, calls = recording_router(consumes={"country_kpis"})
    assert router.resolve(event("global-market-pulse", "prod-dataset-updated-country-kpis"), None) == {"status": "ran"}
    assert calls == [DatasetUpdated("country_kpis", ["2011-12"], "local-prod")]


def test_other_datasets_are_ignored_with_the_reason():
    router, calls = recording_router(consumes={"country_kpis"})
    answer = router.resolve(event("global-market-pulse", "prod-dataset-updated-customer-transactions"), None)
    assert answer == {
        "status": "ignored",
        "dataset": "customer_transactions",
        "reason": "test-fn does not read 'customer_transactions'",
    }
    assert calls == []


def test_every_dataset_reaches_a_system_that_audits_them_all():
    router, calls = recording_router(consumes=EVERY_DATASET)
    router.resolve(event("compliance-guardian", "prod-dataset-updated-market_series"), None)
    assert [c.dataset for c in calls] == ["market_series"]


def test_a_schedule_is_typed_with_its_rule():
    router, calls = recording_router()
    assert router.resolve(event("compliance-guardian", "schedule"), None) == {"status": "scheduled"}
    assert isinstance(calls[0], Scheduled) and calls[0].rules[0].endswith("ComplianceGuardianNightly-1A2B3C")
    # the local run's schedule has no envelope beyond source and detail-type
    router.resolve({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}, None)
    assert calls[1] == Scheduled([])


@pytest.mark.parametrize(
    ("detail", "says"),
    [
        ({"partitions": ["2024-01-01"]}, "dataset: Field required"),
        ({"dataset": "daily_sales"}, "partitions: Field required"),
        ({"dataset": "daily_sales", "partitions": "2024-01-01"}, "partitions: Input should be a valid list"),
        ({"dataset": 7, "partitions": []}, "dataset: Input should be a valid string"),
    ],
)
def test_a_malformed_dataset_event_says_which_field_is_wrong(detail, says):
    router, calls = recording_router(consumes={"daily_sales"})
    bad = {"detail-type": "ProdDatasetUpdated", "source": "retail.platform", "detail": detail}
    with pytest.raises(BadEventError, match=f"ProdDatasetUpdated event needs .*{says}"):
        router.resolve(bad, None)
    assert calls == []


def test_only_the_platform_emits_dataset_updates():
    router, _ = recording_router(consumes={"daily_sales"})
    forged = event("demand-insights-engine", "prod-dataset-updated-daily_sales") | {"source": "someone.else"}
    with pytest.raises(BadEventError, match=r"only 'retail\.platform' emits it"):
        router.resolve(forged, None)


@pytest.mark.parametrize("bad", [{"hello": "world"}, {"step": "plan"}, {"detail-type": "Object Created"}])
def test_what_a_function_does_not_handle_is_refused_in_one_shape(bad):
    router, _ = recording_router(routes="GET /x")
    with pytest.raises(BadEventError) as refused:
        router.resolve(bad, None)
    assert str(refused.value) == (
        "unsupported event: test-fn expects an HTTP API v2 request (GET /x), a ProdDatasetUpdated event, "
        "a Scheduled Event"
    )


def test_a_non_object_event_is_refused():
    router, _ = recording_router()
    with pytest.raises(BadEventError, match="event must be a JSON object, got list"):
        router.resolve([], None)


def test_steps_get_their_event_and_unknown_steps_are_refused():
    router = Router("steps-fn")
    router.step("plan")(lambda e: {"planned": e["step"]})
    assert router.resolve({"step": "plan"}, None) == {"planned": "plan"}
    with pytest.raises(BadEventError, match=r"expects a state machine step \(plan\)"):
        router.resolve({"step": "merge"}, None)


def test_object_events_are_typed_refs_and_bad_ones_say_what_is_missing():
    router = Router("objects-fn")
    router.objects(lambda refs: {"keys": [(r.bucket, r.key) for r in refs]})
    created = event("raw-to-curated", "eventbridge-object-created")
    assert router.resolve(created, None) == {
        "keys": [(created["detail"]["bucket"]["name"], created["detail"]["object"]["key"])]
    }
    with pytest.raises(BadEventError, match="without detail"):
        router.resolve({"detail-type": "Object Created", "source": "aws.s3"}, None)


def test_http_requests_reach_the_routes_and_unknown_routes_get_the_error_shape():
    router = Router("http-fn", routes="GET /pulse")
    router.http.get("/pulse")(lambda: {"ok": True})
    request = event("global-market-pulse", "http-get-pulse")
    assert json.loads(router.resolve(request, None)["body"]) == {"ok": True}
    other = event("global-market-pulse", "http-get-pulse-country")
    answer = router.resolve(other, None)
    assert answer["statusCode"] == 404
    assert json.loads(answer["body"]) == {
        "error": "Not Found",
        "message": f"unknown route GET {other['rawPath']}: this function serves GET /pulse",
    }

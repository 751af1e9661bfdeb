"""raw-to-curated and curated-to-prod handlers on their events/ files, with the domain faked."""

from __future__ import annotations

import pytest

from retail_platform.exceptions import BadEventError
from tests.support import event
from tests.unit.handlers.conftest import Recorder, load

RAW_TO_CURATED = "raw-to-curated"
CURATED_TO_PROD = "curated-to-prod"


def summary(key: str, days: list[str], also: dict | None = None) -> dict:
    return {
        "source_key": key,
        "dataset": "order_lines",
        "rows_in": 10,
        "rows_curated": 8,
        "rows_quarantined": 2,
        "report_key": f"_reports/order_lines/{key}.json",
        "partitions": days,
        "also": also or {},
    }


@pytest.fixture
def curation(monkeypatch, clients):
    fn = load(RAW_TO_CURATED)
    monkeypatch.setattr(fn, "contracts", lambda: ["contract"])
    return fn


@pytest.mark.parametrize(
    ("case", "bucket", "key"),
    [
        ("eventbridge-object-created", "local-raw", "uci-online-retail/online_retail_sample.csv"),
        ("s3-notification", "local-raw", "sample/order_lines/order_lines-2023-10.csv.gz"),
        ("stepfunctions-task", "local-raw", "uci-online-retail/online_retail_sample.csv"),
    ],
)
def test_every_object_event_curates_its_object(curation, clients, context, monkeypatch, case, bucket, key):
    process = Recorder(summary(key, ["2023-10-02", "2023-10-01"]))
    monkeypatch.setattr(curation, "process_object", process)
    result = curation.lambda_handler(event(RAW_TO_CURATED, case), context)
    (s3, settings, contracts, got_bucket, got_key, batch_rows), _ = process.calls[0]
    assert (s3, contracts, got_bucket, got_key) == (clients["s3"], ["contract"], bucket, key)
    assert (settings.curated_bucket, batch_rows) == ("local-curated", 250_000)
    assert result["partitions"] == {"order_lines": ["2023-10-01", "2023-10-02"]}
    assert (result["rows_in"], result["rows_curated"], result["rows_quarantined"]) == (10, 8, 2)
    assert result["objects"][0]["report_key"] == f"_reports/order_lines/{key}.json"


def test_an_export_feeding_several_datasets_reports_each(curation, monkeypatch, context):
    orders = {"dataset": "orders", "partitions": ["2023-10-01"], "rows_curated": 3, "rows_quarantined": 0}
    monkeypatch.setattr(curation, "process_object", Recorder(summary("x.csv", ["2023-10-01"], {"orders": orders})))
    result = curation.lambda_handler({"bucket": "local-raw", "key": "x.csv"}, context)
    assert result["partitions"] == {"order_lines": ["2023-10-01"], "orders": ["2023-10-01"]}
    assert result["objects"][0]["also"]["orders"]["rows_curated"] == 3


@pytest.mark.parametrize("bad", [[], {}, {"Records": []}, {"bucket": "local-raw"}])
def test_malformed_object_events_are_refused_before_any_work(curation, monkeypatch, context, bad):
    monkeypatch.setattr(curation, "process_object", Recorder())
    with pytest.raises(BadEventError):
        curation.lambda_handler(bad, context)
    assert curation.process_object.calls == []


def test_objects_outside_the_raw_bucket_are_refused_whole_and_logged(curation, monkeypatch, context, caplog):
    monkeypatch.setattr(curation, "process_object", Recorder())
    s3_event = event(RAW_TO_CURATED, "s3-notification")
    stray = {**s3_event["Records"][0], "s3": {**s3_event["Records"][0]["s3"], "bucket": {"name": "local-prod"}}}
    with pytest.raises(BadEventError, match=r"bucket 'local-raw' only; the event names \['local-prod'\]: refused"):
        curation.lambda_handler({"Records": [s3_event["Records"][0], stray]}, context)
    assert curation.process_object.calls == []  # not even the raw object: the event is refused whole
    refusal = next(r for r in caplog.records if r.getMessage() == "event refused: objects outside the expected bucket")
    assert (refusal.levelname, refusal.buckets, refusal.objects) == ("WARNING", ["local-prod"], 2)
    with pytest.raises(BadEventError, match="nothing was processed"):
        curation.lambda_handler({"bucket": "someone-elses-bucket", "key": "x.csv"}, context)
    assert curation.process_object.calls == []


@pytest.mark.parametrize(
    ("case", "full", "changed"),
    [
        ("full-rebuild", True, {}),
        ("schedule", True, {}),
        ("stepfunctions-task", False, {"order_lines": ["2011-10", "2011-11"]}),
    ],
)
def test_curated_to_prod_runs_what_its_task_asks(monkeypatch, clients, context, case, full, changed):
    from marts.service import Outcome

    fn = load(CURATED_TO_PROD)
    outcome = Outcome(written={"daily_sales": ["2011-10"]}, events_emitted=1)
    run = Recorder(outcome)
    monkeypatch.setattr(fn, "run", run)
    result = fn.lambda_handler(event(CURATED_TO_PROD, case), context)
    (request, s3, events, _), _ = run.calls[0]
    assert (request.full_rebuild, request.changed) == (full, changed)
    assert (s3, events) == (clients["s3"], clients["events"])
    assert result == {"prod_datasets": {"daily_sales": ["2011-10"]}, "events_emitted": 1, "partitions_deleted": {}}


def test_curated_to_prod_passes_the_engine_and_checks_the_probe(monkeypatch, clients, context):
    fn = load(CURATED_TO_PROD)
    from marts.service import Outcome

    run = Recorder(Outcome())
    monkeypatch.setattr(fn, "run", run)
    athena = Recorder(Outcome(written={"daily_sales": ["2024-03"]}, events_emitted=1))
    monkeypatch.setattr(fn, "run_athena", athena)
    result = fn.lambda_handler({"full_rebuild": True, "engine": "athena"}, context)
    assert athena.calls[0][0] == (clients["s3"], clients["athena"], clients["events"], fn.SETTINGS)
    assert result["prod_datasets"] == {"daily_sales": ["2024-03"]} and not run.calls
    fn.lambda_handler({"full_rebuild": True, "engine": "duckdb"}, context)
    assert run.calls[0][0][0].engine == "duckdb" and run.calls[0][0][0].full_rebuild
    measured = Recorder({"curated_bytes": 7, "curated_objects": 1})
    monkeypatch.setattr(fn, "measure", measured)
    assert fn.lambda_handler({"measure": "curated"}, context) == {"curated_bytes": 7, "curated_objects": 1}
    assert measured.calls[0][0] == (clients["s3"], fn.SETTINGS) and len(run.calls) == 1
    for bad, says in (
        ({"measure": "prod"}, 'measure must be "curated"'),
        ({"full_rebuild": True, "engine": "spark"}, "engine must be one of"),
    ):
        with pytest.raises(BadEventError, match=says):
            fn.lambda_handler(bad, context)


def test_curated_to_prod_refuses_a_non_object_event(context):
    with pytest.raises(BadEventError, match="must be a JSON object"):
        load(CURATED_TO_PROD).lambda_handler(["full_rebuild"], context)


def test_an_athena_rebuild_needs_the_catalog_settings_and_announces_its_months(monkeypatch):
    """run_athena: without GLUE_DATABASE / ATHENA_WORKGROUP a clear ConfigurationError; with them the months
    the Athena rebuild wrote are announced as ProdDatasetUpdated events."""
    import dataclasses

    import marts.sql.athena as athena
    from marts import service
    from retail_platform.exceptions import ConfigurationError
    from retail_platform.settings import Settings

    base = Settings("test", "raw", "cur", "prod", "art", "bus", "AUTO", None, "us-east-1")
    with pytest.raises(ConfigurationError, match="GLUE_DATABASE and ATHENA_WORKGROUP"):
        service.run_athena(object(), object(), object(), base)

    class Rebuild:
        def __init__(self, queries, prod, setting, curated, glue):
            self.args = (queries.database, queries.workgroup, prod.bucket, setting, curated.bucket, glue)

        def run(self):
            assert self.args == ("retail_db", "retail_wg", "prod", "AUTO", "cur", None)
            return {"daily_sales": ["2024-04", "2024-03"], "country_kpis": []}

    monkeypatch.setattr(athena, "AthenaRebuild", Rebuild)
    published = Recorder(2)
    monkeypatch.setattr(service, "put_events", published)
    settings = dataclasses.replace(base, glue_database="retail_db", athena_workgroup="retail_wg")
    outcome = service.run_athena(object(), object(), "events-client", settings)
    assert outcome.response() == {
        "prod_datasets": {"daily_sales": ["2024-03", "2024-04"]},
        "events_emitted": 2,
        "partitions_deleted": {},
    }
    (client, entries), _ = published.calls[0]
    assert client == "events-client" and len(entries) == 1

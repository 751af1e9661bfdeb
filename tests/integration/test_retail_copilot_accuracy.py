"""retail-copilot's accuracy on the Online Retail sample ingested through its contract by the real pipeline handlers,
asked through the HTTP route of the handler; ground truth from plain pandas over the prod datasets
(tests/unit/retail_copilot/copilot_bank.py).
"""

from __future__ import annotations

import json

import boto3
import pytest

from retail_platform import s3io
from tests.integration.test_retail_copilot_handler import ARTIFACTS, CURATED, PROD, RAW, build_prod, fx_csv, http
from tests.support import DATA, handler
from tests.unit.retail_copilot.copilot_bank import build_bank, score
from tests.unit.retail_copilot.real_bank import uci_cases, uci_raw


@pytest.fixture(scope="module")
def uci(endpoint):
    from retail_platform.local.run import LocalContext

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    for bucket in (RAW, CURATED, PROD, ARTIFACTS):
        s3io.delete_keys(s3, bucket, list(s3io.list_keys(s3, bucket, "")))
    ctx = LocalContext("pipeline")
    csv = (DATA / "online-retail" / "online_retail_sample.csv").read_bytes()
    build_prod(s3, ctx, csv, fx_csv("2010-11-22", "2011-12-09"))
    copilot = handler("retail-copilot")
    outcome = copilot.lambda_handler(
        {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}, LocalContext("copilot")
    )
    assert outcome["status"] == "rebuilt"
    yield s3, copilot, ctx
    for bucket in (RAW, CURATED, PROD, ARTIFACTS):
        s3io.delete_keys(s3, bucket, list(s3io.list_keys(s3, bucket, "")))


def test_question_bank_on_online_retail(uci):
    s3, copilot, ctx = uci
    mart = s3io.read_parquet_prefix(s3, PROD, "copilot_mart/")
    kpis = s3io.read_parquet_prefix(s3, PROD, "country_kpis/")
    catalog = copilot.SERVICE.copilot().catalog

    def ask(question: str, session: str | None) -> dict:
        body = {"question": question} | ({"session_id": session} if session else {})
        response = copilot.lambda_handler(http(json.dumps(body)), ctx)
        assert response["statusCode"] == 200, response
        return json.loads(response["body"])

    cases = build_bank(mart, kpis, catalog)
    assert len(cases) >= 150
    result = score(ask, cases)
    print(f"online retail: {result.correct}/{result.total} exact, refusals {result.refusal_rate:.0%}", result.by_intent)
    assert result.refusal_rate == 1.0, [f for f in result.failures if f[1] is None]
    assert result.accuracy >= 0.95, result.failures[:10]


def test_real_export_bank_on_online_retail(uci):
    """Distinct counts, group-bys and refusals of the real-export bank, through the pipeline and the HTTP route;
    golden answers from the raw CSV (amount questions are left to the unit tier, whose currency it controls)."""
    _, copilot, ctx = uci

    def ask(question: str, session: str | None) -> dict:
        body = {"question": question} | ({"session_id": session} if session else {})
        return json.loads(copilot.lambda_handler(http(json.dumps(body)), ctx)["body"])

    cases = [c for c in uci_cases(uci_raw()) if "revenue" not in c.question.lower()]
    result = score(ask, cases)
    print(f"online retail real-export bank: {result.correct}/{result.total}", result.by_intent)
    assert result.refusal_rate == 1.0 and result.accuracy >= 0.95, result.failures

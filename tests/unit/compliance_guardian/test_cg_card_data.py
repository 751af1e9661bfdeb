"""Card data beyond PANs (track data, CVV, expiry), scanning, auditing and keyed tokenisation."""

from __future__ import annotations

import boto3
import pandas as pd
import pytest
from moto import mock_aws

from compliance_guardian import api, audit, scan
from compliance_guardian.exceptions import BadRequestError
from retail_platform.exceptions import ConfigurationError
from retail_platform.pii import pan, sensitive, tokenise


def kinds(text):
    return [f.kind for f in sensitive.find_card_data(text)]


def test_cvv_and_expiry_next_to_a_pan_are_found_and_masked():
    text = "card 4111 1111 1111 1111 exp 04/27 cvv 123"
    masked, found = sensitive.mask_card_data(text)
    assert [f.kind for f in found] == ["pan", "expiry", "cvv"]
    assert masked == "card 4111 11** **** 1111 exp **/** cvv ***"


def test_track_data_is_found_whole():
    assert kinds("%B4111111111111111^DOE/JOHN^2712101000000000?") == ["track1"]
    assert kinds(";4111111111111111=27121010000000?") == ["track2"]
    assert "4111111111111111" not in sensitive.mask_card_data(";4111111111111111=27121010000000?")[0]


@pytest.mark.parametrize(
    "text",
    [
        "order 1000607 placed 12/23, 3 items at 129 each",
        "call +44 20 7946 0958 before 10/11",
        "placed 2023-11-24 10:22:31 qty 120",
        "IBAN DE89 3704 0044 0532 0130 00 ref 123",
    ],
)
def test_dates_and_short_numbers_without_a_pan_are_left_alone(text):
    assert sensitive.mask_card_data(text) == (text, [])


def test_scan_records_reports_row_and_column_never_the_digits():
    result = scan.scan_records([{"note": "ok"}, {"note": "pay 5555555555554444", "pan_number": 4111111111111111}])
    where = [(f["row"], f["column"], f["kind"]) for f in result["findings"]]
    assert where == [(1, "note", "pan"), (1, "pan_number", "pan")]
    assert "5555555555554444" not in str(result) and "4111111111111111" not in str(result)


def test_audit_frame_positions():
    frame = pd.DataFrame({"notes": [None, "visa 4111-1111-1111-1111 thx", "fine"], "amount": [1.0, 2.0, 3.0]})
    found = audit.audit_frame(frame, "orders", "2024-01-01")
    assert found[["column", "row", "kind", "start", "end"]].values.tolist() == [["notes", 1, "pan", 5, 24]]


def test_scan_request_validation():
    with pytest.raises(BadRequestError, match="exactly one of"):
        api.scan_request({}, "bin_last4")
    with pytest.raises(BadRequestError, match="must be a string"):
        api.scan_request({"text": 42}, "bin_last4")
    with pytest.raises(BadRequestError, match="policy"):
        api.scan_request({"text": "x", "policy": "all"}, "bin_last4")
    assert api.scan_request({"text": "4111111111111111", "policy": "last4"}, "bin_last4")["masked_text"] == (
        "************1111"
    )


@mock_aws
def test_tokenisation_key_from_ssm_and_secrets_manager():
    ssm = boto3.client("ssm", region_name="us-east-1")
    ssm.put_parameter(Name="/retail/pan-key", Value="k" * 32, Type="SecureString")
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sm.create_secret(Name="retail/pan-key", SecretString="s" * 32)

    def factory(service):
        return boto3.client(service, region_name="us-east-1")

    key_ssm = tokenise.fetch_key("ssm:/retail/pan-key", factory)
    key_sm = tokenise.fetch_key("secretsmanager:retail/pan-key", factory)
    assert key_ssm != key_sm
    token = tokenise.tokenise("4111 1111 1111 1111", key_ssm)
    assert token == tokenise.tokenise("4111-1111-1111-1111", key_ssm) == pan.card_token("4111111111111111", key_ssm)
    assert token != tokenise.tokenise("4111111111111111", key_sm)
    with pytest.raises(ConfigurationError, match="cannot read"):
        tokenise.fetch_key("ssm:/missing", factory)
    ssm.put_parameter(Name="/retail/short", Value="short", Type="SecureString")
    with pytest.raises(ConfigurationError, match="shorter"):
        tokenise.fetch_key("/retail/short", factory)

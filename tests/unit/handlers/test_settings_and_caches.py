"""Settings sections (checked at cold start, rebuilt only when their variables change) and expiring S3 caches."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from retail_platform.cache import Expiring
from retail_platform.exceptions import ConfigurationError, StorageError
from retail_platform.settings import CurationSettings, Section, flag, positive_int


def test_a_section_is_built_once_and_rebuilt_when_its_variables_change(monkeypatch):
    built = []
    section = Section(("CURATION_BATCH_ROWS",), lambda env: built.append(1) or CurationSettings.from_env(env))
    monkeypatch.setenv("CURATION_BATCH_ROWS", "300")
    assert section() is section() and section().batch_rows == 300 and len(built) == 1
    monkeypatch.setenv("CURATION_BATCH_ROWS", "500")
    assert section().batch_rows == 500 and len(built) == 2


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"CURATION_BATCH_ROWS": "many"}, "CURATION_BATCH_ROWS must be a positive integer, got 'many'"),
        ({"CONTRACTS_MAX_AGE_SECONDS": "0"}, "CONTRACTS_MAX_AGE_SECONDS must be a positive integer, got 0"),
    ],
)
def test_a_bad_value_fails_with_the_variable_named(env, says):
    with pytest.raises(ConfigurationError, match=says):
        CurationSettings.from_env(env)


def test_defaults_and_flags():
    assert CurationSettings.from_env({}) == CurationSettings(batch_rows=250_000, contracts_max_age=60)
    assert positive_int({"X": " 7 "}, "X", 1) == 7
    assert [flag({"F": v}, "F", False) for v in ("1", "true", "0", "no", "")] == [True, True, False, False, False]
    with pytest.raises(ConfigurationError, match="F must be 1 or 0"):
        flag({"F": "maybe"}, "F", False)


def test_system_sections_check_their_variables():
    from market_pulse.config import PulseSettings

    from demand_insights.config import ConfigError, DemandSettings

    assert DemandSettings.from_env({"DEMAND_NUM_THREADS": "2"}).num_threads == 2
    with pytest.raises(ConfigError, match="DEMAND_NUM_THREADS must be a positive integer, got 'two'"):
        DemandSettings.from_env({"DEMAND_NUM_THREADS": "two"})
    assert PulseSettings.from_env({"ENVIRONMENT": "local"}).report is True
    assert PulseSettings.from_env({"ENVIRONMENT": "local", "MARKET_PULSE_REPORT": "0"}).report is False
    assert PulseSettings.from_env({}).report is False


def test_an_expiring_cache_sees_a_new_contract_within_its_max_age():
    now, stored = [0.0], ["contract-v1"]
    contracts = Expiring(lambda: list(stored), max_age=60, clock=lambda: now[0])
    assert contracts() == ["contract-v1"]
    stored.append("my-shop-orders")  # uploaded to the artifacts bucket
    now[0] = 59.0
    assert contracts() == ["contract-v1"]  # still fresh: no listing per invocation
    now[0] = 60.0
    assert contracts() == ["contract-v1", "my-shop-orders"]
    stored.pop()
    contracts.cache_clear()
    assert contracts() == ["contract-v1"]


class VersionFolder:
    """The S3 surface ServingModels needs for a pinned version: one listing, then reads (which may throttle)."""

    def __init__(self, keys: list[str], throttled: bool = False) -> None:
        self.keys, self.throttled = keys, throttled

    def get_paginator(self, _: str):
        keys = self.keys
        return type(
            "P",
            (),
            {
                "paginate": lambda self, Bucket, Prefix: [
                    {"Contents": [{"Key": k} for k in keys if k.startswith(Prefix)]}
                ]
            },
        )()

    def get_object(self, Bucket: str, Key: str):
        if self.throttled:
            raise ClientError({"Error": {"Code": "SlowDown"}}, "GetObject")
        raise AssertionError("not reached")


def test_a_pinned_model_version_is_404_only_when_it_does_not_exist():
    from compliance_guardian.exceptions import NotFoundError
    from compliance_guardian.serving import ServingModels

    with pytest.raises(NotFoundError, match="unknown fraud model version 'v9'"):
        ServingModels(lambda: VersionFolder([]), "artifacts").fraud("v9")
    throttled = VersionFolder(["models/compliance-guardian/fraud/v2/model.json"], throttled=True)
    with pytest.raises(StorageError, match="SlowDown"):  # a 5xx for the caller, not "unknown version"
        ServingModels(lambda: throttled, "artifacts").fraud("v2")

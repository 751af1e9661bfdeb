"""Settings sections (checked at cold start, rebuilt only when their variables change) and expiring S3 caches."""

from __future__ import annotations

import pytest

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


@pytest.fixture
def fraud_versions(monkeypatch):
    """The artifacts bucket as retail_platform.storage's in-memory fake; a fraud model is its files."""
    from compliance_guardian.fraud.model import FraudModel
    from compliance_guardian.store import ModelStore
    from retail_platform.storage import MemoryBlobStore

    monkeypatch.setattr(FraudModel, "from_files", staticmethod(lambda files: files["model.json"].decode()))
    blobs = MemoryBlobStore("local-artifacts")
    return blobs, ModelStore(blobs, "local-artifacts", "fraud")


def test_a_pinned_model_version_is_404_only_when_it_does_not_exist(fraud_versions):
    from compliance_guardian.exceptions import NotFoundError
    from compliance_guardian.serving import ServingModels
    from retail_platform.storage.errors import ThrottledError

    blobs, store = fraud_versions
    store.save("v2", {"model.json": b"v2"}, {})
    models = ServingModels(lambda: blobs, "local-artifacts")
    with pytest.raises(NotFoundError, match="unknown fraud model version 'v9'"):
        models.fraud("v9")
    blobs.fail("*/v2/model.json", ThrottledError("SlowDown"), times=1)
    with pytest.raises(StorageError, match="SlowDown"):  # a 5xx for the caller, not "unknown version"
        models.fraud("v2")
    assert models.fraud("v2") == "v2"  # the retry after the throttling reads it


def test_a_retrained_fraud_model_is_served_within_a_minute(fraud_versions):
    from compliance_guardian.serving import POINTER_MAX_AGE, ServingModels

    blobs, store = fraud_versions
    now = [0.0]
    models = ServingModels(lambda: blobs, "local-artifacts", clock=lambda: now[0])
    store.save("v1", {"model.json": b"v1"}, {})
    assert models.fraud() == "v1"
    store.save("v2", {"model.json": b"v2"}, {})  # the batch path retrained
    now[0] = POINTER_MAX_AGE - 1
    assert models.fraud() == "v1"  # no pointer read per request
    now[0] = POINTER_MAX_AGE
    assert models.fraud() == "v2" and POINTER_MAX_AGE <= 60
    read, get = [], blobs.get
    blobs.get = lambda key: read.append(key) or get(key)
    now[0] = 3 * POINTER_MAX_AGE
    assert models.fraud() == "v2"
    assert read == ["models/compliance-guardian/fraud/current.json"]  # unchanged pointer: the model is kept

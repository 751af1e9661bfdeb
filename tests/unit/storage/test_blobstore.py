"""BlobStore port: the in-memory fake and the S3 adapter (botocore Stubber, no network) raise the same errors."""

from __future__ import annotations

import io

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from retail_platform.exceptions import PlatformError
from retail_platform.storage import (
    BlobStore,
    CorruptObjectError,
    MemoryBlobStore,
    ObjectNotFoundError,
    S3BlobStore,
    StorageError,
    ThrottledError,
    read_json,
    read_parquet,
    write_json,
    write_parquet,
)


@pytest.fixture
def s3_store():
    client = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stubber:
        yield S3BlobStore(client, "bucket"), stubber


def test_errors_derive_from_the_platform_base():
    for error in (ThrottledError, CorruptObjectError, ObjectNotFoundError, StorageError):
        assert issubclass(error, PlatformError)
    assert issubclass(CorruptObjectError, ValueError)  # callers catching decode errors keep working


def test_memory_store_round_trip_list_delete_exists():
    store = MemoryBlobStore("b")
    assert isinstance(store, BlobStore)
    store.put("a/2.bin", b"two")
    store.put("a/1.bin", b"one", "text/plain")
    store.put("b/1.bin", b"other")
    assert store.get("a/1.bin") == b"one"
    assert list(store.list("a/")) == ["a/1.bin", "a/2.bin"]
    assert store.exists("a/2.bin") and not store.exists("a/3.bin")
    store.delete(["a/1.bin", "a/missing"])
    assert list(store.list("")) == ["a/2.bin", "b/1.bin"]
    with pytest.raises(ObjectNotFoundError):
        store.get("a/1.bin")


def test_memory_store_injected_throttling_then_recovery():
    store = MemoryBlobStore(objects={"k": b"v"})
    store.fail("k*", ThrottledError("SlowDown"), times=2)
    for _ in range(2):
        with pytest.raises(ThrottledError):
            store.get("k")
    assert store.get("k") == b"v"


def test_json_and_parquet_helpers_and_corrupt_objects():
    import pandas as pd

    store = MemoryBlobStore()
    write_json(store, "x.json", {"b": 1, "a": [1, 2]})
    assert store.get("x.json") == b'{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}'
    assert read_json(store, "x.json") == {"a": [1, 2], "b": 1}
    frame = pd.DataFrame({"day": ["2024-01-01", "2024-01-02"], "units": [3, 4]})
    write_parquet(store, "t.parquet", frame)
    assert store.content_types["t.parquet"] == "application/vnd.apache.parquet"
    pd.testing.assert_frame_equal(read_parquet(store, "t.parquet"), frame)
    assert list(read_parquet(store, "t.parquet", columns=["units", "nope"]).columns) == ["units"]
    store.put("bad.json", b"{not json")
    store.put("bad.parquet", b"PAR1 but not really")
    with pytest.raises(CorruptObjectError):
        read_json(store, "bad.json")
    with pytest.raises(CorruptObjectError):
        read_parquet(store, "bad.parquet")


def test_s3_adapter_get_put_list(s3_store):
    store, stubber = s3_store
    stubber.add_response(
        "get_object", {"Body": StreamingBody(io.BytesIO(b"hello"), 5)}, {"Bucket": "bucket", "Key": "k"}
    )
    stubber.add_response(
        "put_object", {}, {"Bucket": "bucket", "Key": "k", "Body": b"v", "ContentType": "application/json"}
    )
    stubber.add_response(
        "list_objects_v2", {"Contents": [{"Key": "p/a"}, {"Key": "p/b"}]}, {"Bucket": "bucket", "Prefix": "p/"}
    )
    assert store.get("k") == b"hello"
    store.put("k", b"v", "application/json")
    assert list(store.list("p/")) == ["p/a", "p/b"]
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("NoSuchKey", 404, ObjectNotFoundError),
        ("SlowDown", 503, ThrottledError),
        ("ThrottlingException", 400, ThrottledError),
        ("InternalError", 500, StorageError),
        ("AccessDenied", 403, StorageError),
    ],
)
def test_s3_adapter_classifies_client_errors(s3_store, code, status, expected):
    store, stubber = s3_store
    stubber.add_client_error("get_object", service_error_code=code, http_status_code=status)
    with pytest.raises(expected) as caught:
        store.get("k")
    assert type(caught.value) is expected
    assert "s3://bucket/k" in str(caught.value)


def test_s3_adapter_exists_is_false_only_for_missing(s3_store):
    store, stubber = s3_store
    stubber.add_response("head_object", {}, {"Bucket": "bucket", "Key": "here"})
    stubber.add_client_error("head_object", service_error_code="404", http_status_code=404)
    stubber.add_client_error("head_object", service_error_code="SlowDown", http_status_code=503)
    assert store.exists("here") is True
    assert store.exists("gone") is False
    with pytest.raises(ThrottledError):
        store.exists("busy")


def test_s3_adapter_deletes_in_chunks_of_1000(s3_store):
    store, stubber = s3_store
    keys = [f"k{i:04d}" for i in range(1500)]
    for chunk in (keys[:1000], keys[1000:]):
        stubber.add_response(
            "delete_objects",
            {},
            {"Bucket": "bucket", "Delete": {"Objects": [{"Key": k} for k in chunk], "Quiet": True}},
        )
    store.delete(keys)
    stubber.assert_no_pending_responses()

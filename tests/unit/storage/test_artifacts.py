"""VersionedArtifacts on the in-memory store: publish, current, previous, fallback to the last good version."""

from __future__ import annotations

import json

import pytest

from retail_platform.storage import MemoryBlobStore, ThrottledError, VersionedArtifacts


def _model(files: dict[str, bytes]) -> dict:
    return json.loads(files["model.json"])


@pytest.fixture
def artifacts():
    return VersionedArtifacts(MemoryBlobStore("artifacts"), "models/sys/fraud", keep_previous=2)


def test_nothing_published(artifacts):
    assert artifacts.pointer() is None
    assert artifacts.current() is None
    assert artifacts.versions() == []
    assert artifacts.load(lambda v: _model(artifacts.read(v))) is None


def test_publish_moves_pointer_last_and_keeps_previous(artifacts):
    for version in ("v1", "v2", "v3", "v4"):
        artifacts.publish(version, {"model.json": json.dumps({"v": version}).encode()}, as_of="2024-01-31")
    pointer = artifacts.read_pointer()
    assert pointer == {"version": "v4", "previous": ["v3", "v2"], "as_of": "2024-01-31"}
    assert artifacts.current() == "v4"
    assert artifacts.previous() == ["v3", "v2"]
    assert artifacts.store.content_types["models/sys/fraud/v4/model.json"] == "application/json"
    # republishing the current version does not list it as its own fallback
    artifacts.publish("v4", {"model.json": b'{"v": "v4"}'})
    assert artifacts.read_pointer()["previous"] == ["v3", "v2"]


def test_load_falls_back_to_the_newest_previous_version_that_loads(artifacts):
    artifacts.publish("v1", {"model.json": b'{"v": "v1"}'})
    artifacts.publish("v2", {"model.json": b'{"v": "v2"}'})
    artifacts.publish("v3", {"model.json": b"{corrupt"})
    assert artifacts.load(lambda v: _model(artifacts.read(v))) == ({"v": "v2"}, "v2")
    artifacts.store.delete(["models/sys/fraud/v2/model.json"])
    assert artifacts.load(lambda v: _model(artifacts.read(v))) == ({"v": "v1"}, "v1")
    artifacts.store.fail("models/sys/fraud/v1/*", ThrottledError("SlowDown"))
    assert artifacts.load(lambda v: _model(artifacts.read(v))) is None


def test_unreadable_decides_what_is_skipped(artifacts):
    artifacts.publish("v1", {"model.json": b"{}"})

    def broken(version: str) -> None:
        raise RuntimeError("a bug, not a bad version")

    with pytest.raises(RuntimeError):
        artifacts.load(broken)
    assert artifacts.load(broken, unreadable=(Exception,)) is None


def test_corrupt_or_legacy_pointer(artifacts):
    store = artifacts.store
    store.put(artifacts.pointer_key, b"[1, 2]")
    assert artifacts.pointer() is None
    store.put(artifacts.pointer_key, b'{"version": "v2", "previous": "v1"}')  # older pointers held one string
    assert artifacts.versions() == ["v2", "v1"]


def test_read_every_file_or_named_ones_with_optional(artifacts):
    artifacts.publish("v1", {"model.txt": b"m", "metadata.json": b"{}", "sub/x.bin": b"x"})
    assert artifacts.read("v1") == {"model.txt": b"m", "metadata.json": b"{}", "sub/x.bin": b"x"}
    assert artifacts.read("v1", ["model.txt"], optional=("calibration.json", "sub/x.bin")) == {
        "model.txt": b"m",
        "sub/x.bin": b"x",
    }
    from retail_platform.storage import ObjectNotFoundError, StorageError

    with pytest.raises(ObjectNotFoundError):
        artifacts.read("v1", ["absent.txt"])
    with pytest.raises(StorageError):
        artifacts.read("v9")


def test_pointer_fields_may_use_any_name(artifacts):
    artifacts.publish("v1", {"a.bin": b"1"}, files=["a.bin"], version_note="x")
    assert artifacts.read_pointer() == {"version": "v1", "previous": [], "files": ["a.bin"], "version_note": "x"}
    assert artifacts.has("v1") and not artifacts.has("v2")


def test_staged_version_is_served_only_after_point_to(artifacts):
    artifacts.publish("v1", {"model.json": b'{"v": "v1"}'})
    assert artifacts.stage("v2", {"model.json": b'{"v": "v2"}'}) == "models/sys/fraud/v2/"
    assert artifacts.current() == "v1" and artifacts.has("v2")
    artifacts.point_to("v2")
    assert artifacts.versions() == ["v2", "v1"]

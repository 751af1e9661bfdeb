"""Test helpers for handlers run on `MemoryBlobStore`s: prod datasets written as the pipeline lays them out,
and an EventBridge stand-in that records what a batch announces."""

from __future__ import annotations

import pandas as pd

from retail_platform.storage import MemoryBlobStore, codec


def write_partitioned(store: MemoryBlobStore, name: str, frame: pd.DataFrame, grain: str) -> list[str]:
    """`frame` as the pipeline writes a prod dataset: one object per month (`month=YYYY-MM/`), or per day
    (`date=YYYY-MM-DD/`, the older layout); returns the labels written."""
    dates = pd.to_datetime(frame["date"])
    labels = dates.dt.strftime("%Y-%m") if grain == "month" else dates.dt.strftime("%Y-%m-%d")
    field = "month" if grain == "month" else "date"
    for label, part in frame.groupby(labels.to_numpy()):
        codec.write_parquet(store, f"{name}/{field}={label}/part-0.parquet", part.reset_index(drop=True))
    return sorted(set(labels))


class RecordingEvents:
    """Stands in for the EventBridge client: accepts every entry and keeps it."""

    def __init__(self) -> None:
        self.entries: list[dict] = []

    def put_events(self, Entries: list[dict]) -> dict:
        self.entries += Entries
        return {"FailedEntryCount": 0, "Entries": [{"EventId": str(i)} for i in range(len(Entries))]}

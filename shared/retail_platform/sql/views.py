"""`prod_views`: an engine with one view per dataset of a store, for a reader that pushes its aggregation into SQL.

The AI systems read prod this way (issue #18 item 4): each dataset's objects are mirrored and scanned in place,
with the rows' own `date` column rather than partition keys, and nothing is loaded whole into pandas.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from retail_platform.sql.engine import SqlEngine, SqlError
from retail_platform.storage.blobstore import BlobStore


@contextmanager
def prod_views(
    store: BlobStore, *datasets: str, threads: int | None = None, memory_limit: str | None = None
) -> Iterator[SqlEngine | None]:
    """A `SqlEngine` with a view per dataset (`<name>/` objects of `store`), or None when one of them has no
    object yet (the caller reports the empty input); the engine is closed on exit."""
    engine = SqlEngine(threads=threads, memory_limit=memory_limit)
    try:
        try:
            for name in datasets:
                engine.register(name, store, f"{name}/", hive_partitioning=False)
        except SqlError:  # no object under the prefix
            yield None
            return
        yield engine
    finally:
        engine.close()

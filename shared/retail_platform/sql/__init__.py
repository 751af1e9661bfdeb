"""SQL over the platform's parquet datasets: DuckDB in Lambda and locally, Athena (Trino) past one Lambda.

`SqlEngine` registers datasets of any `BlobStore` (S3, moto, the local endpoint, the in-memory fake) as
views and runs bound-parameter queries; `to_trino`/`check_trino` carry the same SQL to Athena.
Names are imported on first use (PEP 562): importing the package does not load duckdb or sqlglot.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_HOMES = {
    "SqlEngine": "engine",
    "SqlError": "engine",
    "quote_identifier": "engine",
    "ParquetMirror": "mirror",
    "to_trino": "dialect",
    "check_trino": "dialect",
    "prod_views": "views",
}

__all__ = ["ParquetMirror", "SqlEngine", "SqlError", "check_trino", "prod_views", "quote_identifier", "to_trino"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)


if TYPE_CHECKING:
    from retail_platform.sql.dialect import check_trino, to_trino
    from retail_platform.sql.engine import SqlEngine, SqlError, quote_identifier
    from retail_platform.sql.mirror import ParquetMirror
    from retail_platform.sql.views import prod_views

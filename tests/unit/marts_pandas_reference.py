"""Moved to tests.reference.pandas_marts.build (kept while a running benchmark still imports this name)."""

from tests.reference.pandas_marts.build import build_pandas_marts

__all__ = ["build_pandas_marts"]

"""The SQL dialects: marts and plans are written for DuckDB and run on Athena (Trino) as transpiled by sqlglot.

`to_trino` is the one translation; `check_trino` parses a Trino text so that CI catches SQL Athena would
refuse (syntax only: Athena itself checks names and types).
"""

from __future__ import annotations

import sqlglot
from sqlglot.errors import ParseError, UnsupportedError

from retail_platform.sql.engine import SqlError


def to_trino(sql: str, pretty: bool = True) -> str:
    """One DuckDB statement as Trino SQL (`SqlError` when sqlglot cannot express it in Trino)."""
    try:
        statements = sqlglot.transpile(
            sql, read="duckdb", write="trino", pretty=pretty, unsupported_level=sqlglot.ErrorLevel.RAISE
        )
    except (ParseError, UnsupportedError) as e:
        raise SqlError(f"cannot transpile to Trino: {e}") from e
    if len(statements) != 1:
        raise SqlError(f"expected one statement, got {len(statements)}")
    return statements[0]


def check_trino(sql: str) -> None:
    """Raise `SqlError` unless `sql` parses as one Trino statement."""
    try:
        parsed = sqlglot.parse(sql, read="trino")
    except ParseError as e:
        raise SqlError(f"not valid Trino SQL: {e}") from e
    if len([p for p in parsed if p is not None]) != 1:
        raise SqlError("expected one Trino statement")

"""Build the targeted prod partitions from curated inputs (frames in, frames out) with the SQL marts.

The marts are defined once as SQL (`marts.sql`); here DuckDB runs them over frames already read, one batch
of months at a time. `marts.sql.run.SqlMarts.from_store` runs the same SQL over curated objects directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import pandas as pd

from marts.curated import CuratedInputs
from marts.sql.run import SqlMarts
from retail_platform.sql import SqlEngine


def build_marts(
    inputs: CuratedInputs, targets: Mapping[str, Iterable[date]], reporting: str
) -> dict[str, pd.DataFrame]:
    """Prod frames (contract columns, then custom attributes; sorted) holding exactly the rows of the target
    partitions, amounts converted to `reporting` (an ISO code: `currency.resolve` has settled AUTO)."""
    targets = {name: sorted(set(days)) for name, days in targets.items() if days}
    with SqlEngine() as engine:
        return SqlMarts.from_inputs(inputs, engine).build(targets, reporting)

"""Partition labels of ProdDatasetUpdated events: month labels "YYYY-MM" (the prod layout) or day labels
"YYYY-MM-DD" (older events, users' files), each mapped to its month.

The batch path refits on the whole history whatever changed, so the labels only say which months moved
(logged); a label that is neither is a bad event, named in the error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from retail_platform.exceptions import BadEventError

_LABEL = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def month_of(label: str) -> str:
    """The month "YYYY-MM" of a month or day label; BadEventError for anything else."""
    match = _LABEL.match(label.strip()) if isinstance(label, str) else None
    try:
        if match is None:
            raise ValueError
        year, month, day = (int(g) if g else 1 for g in match.groups())
        date(year, month, day)  # a real calendar day (no month 13, no 31 February)
    except ValueError:
        raise BadEventError(f"partition label {label!r} is neither a month YYYY-MM nor a day YYYY-MM-DD") from None
    return f"{year:04d}-{month:02d}"


def changed_months(labels: Iterable[str]) -> list[str]:
    """The sorted distinct months that the event's partition labels name."""
    return sorted({month_of(label) for label in labels})

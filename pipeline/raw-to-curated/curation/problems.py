"""Per-row reasons and warnings, collected column by column without a Python loop over every row."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


class RowNotes:
    """Messages attached to rows of one batch; only rows with a message cost anything."""

    def __init__(self, n_rows: int) -> None:
        self.n_rows = n_rows
        self._parts: list[tuple[np.ndarray, object]] = []  # (positions, message str or array of str)

    def add(self, mask: pd.Series | np.ndarray, message: str | pd.Series) -> None:
        """Attach `message` (one string, or a per-row series aligned with mask) to rows where mask holds."""
        hits = np.flatnonzero(np.asarray(mask, dtype=bool))
        if hits.size == 0:
            return
        if isinstance(message, str):
            self._parts.append((hits, message))
        else:
            values = np.asarray(message, dtype=object)
            self._parts.append((hits, values[hits]))

    def add_positions(self, positions: np.ndarray, messages: list[str]) -> None:
        """Attach one message per position (for the few rows whose message names their own value)."""
        if len(positions):
            self._parts.append((np.asarray(positions), np.asarray(messages, dtype=object)))

    def flagged(self) -> np.ndarray:
        """Boolean mask of rows with at least one message."""
        mask = np.zeros(self.n_rows, dtype=bool)
        for positions, _ in self._parts:
            mask[positions] = True
        return mask

    def messages(self) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for positions, message in self._parts:
            if isinstance(message, str):
                for p in positions.tolist():
                    out.setdefault(p, []).append(message)
            else:
                for p, m in zip(positions.tolist(), message.tolist(), strict=True):
                    out.setdefault(p, []).append(m)
        return out

    def joined(self) -> np.ndarray:
        """One '; '-joined string per row (None where no message)."""
        out = np.full(self.n_rows, None, dtype=object)
        for positions, message in self._parts:
            new = np.full(len(positions), message, dtype=object) if isinstance(message, str) else message
            current = out[positions]
            taken = ~np.equal(current, None)
            merged = new.copy()
            merged[taken] = current[taken] + "; " + new[taken]
            out[positions] = merged
        return out

    def counts(self, kind=lambda m: m) -> dict[str, int]:
        """Rows per message kind (kind maps a message to its label)."""
        counts: Counter[str] = Counter()
        for positions, message in self._parts:
            if isinstance(message, str):
                counts[kind(message)] += len(positions)
            else:
                counts.update(kind(m) for m in message.tolist())
        return dict(counts)


@dataclass
class Notes:
    """A batch's three kinds of row notes: quarantine reasons, warnings (row kept) and repairs made."""

    n_rows: int
    reasons: RowNotes = field(init=False)
    warnings: RowNotes = field(init=False)
    repairs: RowNotes = field(init=False)

    def __post_init__(self) -> None:
        self.reasons, self.warnings, self.repairs = RowNotes(self.n_rows), RowNotes(self.n_rows), RowNotes(self.n_rows)

"""The dataclasses a loaded contract is made of (parsing and checks live in the package's other modules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from retail_platform.contracts.expressions import Expression


@dataclass(frozen=True)
class Repair:
    """How a failing cell is repaired: its raw text is cleaned, then parsed and checked again."""

    strip_suffix: tuple[str, ...] = ()
    strip_prefix: tuple[str, ...] = ()
    extract: str | None = None  # a regex: its first group (or the whole match) is kept

    def describe(self) -> str:
        parts = [f"strip_suffix {list(self.strip_suffix)}"] if self.strip_suffix else []
        parts += [f"strip_prefix {list(self.strip_prefix)}"] if self.strip_prefix else []
        parts += [f"extract {self.extract!r}"] if self.extract else []
        return ", ".join(parts) or "case of an allowed value"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    not_future: bool = False
    actions: dict[str, str] = field(default_factory=dict)  # check (or "*") -> quarantine | warn | repair
    repair: Repair | None = None

    def action_for(self, check: str) -> str:
        """What a failed check does to its row: quarantine (the default), warn (kept, flagged) or repair."""
        return self.actions.get(check, self.actions.get("*", "quarantine"))

    @property
    def has_actions(self) -> bool:
        return bool(self.actions)


@dataclass(frozen=True)
class Condition:
    column: str
    op: str
    value: Any


@dataclass(frozen=True)
class Rule:
    name: str
    when: Condition
    then: Condition | None
    action: str


@dataclass(frozen=True)
class CanonicalDataset:
    name: str
    description: str
    partition_by: str | None
    business_key: tuple[str, ...]
    columns: dict[str, Column]
    rules: tuple[Rule, ...]
    quality: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ColumnMapping:
    target: str
    source: str | None = None
    source_index: int | None = None
    constant: Any = None
    expr: Expression | None = None
    format: str | None = None
    value_map: dict[str, Any] | None = None
    startswith: str | None = None
    strip_suffix: str | None = None
    row_number: bool = False  # the row's 1-based position among the file's data rows (exports without line numbers)

    @property
    def source_columns(self) -> tuple[str, ...]:
        """The source columns (by name) this mapping reads."""
        if self.expr is not None:
            return self.expr.columns
        return (self.source,) if self.source else ()


@dataclass(frozen=True)
class SourceContract:
    """How one export maps onto a canonical dataset (and, with `datasets:`, onto several: see `also`)."""

    name: str
    dataset: str
    prefix: str
    format: str
    csv: dict[str, Any] = field(default_factory=dict)
    na_values: tuple[str, ...] = ("",)
    timezone: str = "UTC"
    columns: dict[str, ColumnMapping] = field(default_factory=dict)  # canonical columns and attributes
    rules: tuple[Rule, ...] = ()
    quality: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    attributes: dict[str, Column] = field(default_factory=dict)  # custom attributes: name -> type and checks
    schema: dict[str, Column] = field(default_factory=dict)  # every output column with this source's actions
    also: tuple[SourceContract, ...] = ()  # further datasets fed by the same export
    collapse: bool = False  # a further dataset: repeats of a business key collapse when identical
    aggregate: dict[str, str] = field(default_factory=dict)  # column -> min | max over a key's repeats

    @property
    def canonical(self) -> CanonicalDataset:
        from retail_platform.contracts import load_canonical  # the package's cache of canonical schemas

        return load_canonical(self.dataset)

    @property
    def outputs(self) -> tuple[SourceContract, ...]:
        """This contract's datasets, the primary first (every raw row is accounted for in each)."""
        return (self, *self.also)

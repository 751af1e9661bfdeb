"""Dataset contracts: canonical schemas and source mappings, loaded from declarative YAML files.

See README.md beside this file for the format. Every contract is checked when loaded, so a typo in a
contract fails with a message naming the file and the field, not later on a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from retail_platform.exceptions import ContractError

HERE = Path(__file__).resolve().parent
COLUMN_TYPES = {
    "string",
    "text",
    "int",
    "float",
    "bool",
    "date",
    "timestamp",
    "country",
    "currency",
    "email",
    "pan",
}
CONDITION_OPS = {"equals", "in", "lt", "le", "gt", "ge", "is_null"}
ACTIONS = {"quarantine", "warn"}
FORMATS = {"csv", "jsonl", "parquet"}
MAPPING_KEYS = {"source", "source_index", "constant", "format", "map", "startswith", "strip_suffix"}


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
    format: str | None = None
    value_map: dict[str, Any] | None = None
    startswith: str | None = None
    strip_suffix: str | None = None


@dataclass(frozen=True)
class SourceContract:
    name: str
    dataset: str
    prefix: str
    format: str
    csv: dict[str, Any] = field(default_factory=dict)
    na_values: tuple[str, ...] = ("",)
    timezone: str = "UTC"
    columns: dict[str, ColumnMapping] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    quality: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    @property
    def canonical(self) -> CanonicalDataset:
        return load_canonical(self.dataset)


def _fail(path: Path | str, message: str) -> ContractError:
    return ContractError(f"{path}: {message}")


def _condition(path: Path, rule_name: str, spec: Any) -> Condition:
    if not isinstance(spec, dict) or "column" not in spec:
        raise _fail(path, f"rule {rule_name!r}: a condition needs 'column' and one operator")
    ops = [k for k in spec if k != "column"]
    if len(ops) != 1 or ops[0] not in CONDITION_OPS:
        raise _fail(path, f"rule {rule_name!r}: operator must be one of {sorted(CONDITION_OPS)}, got {ops}")
    return Condition(column=spec["column"], op=ops[0], value=spec[ops[0]])


def _rules(path: Path, specs: Any, columns: set[str]) -> tuple[Rule, ...]:
    rules = []
    for spec in specs or []:
        name = spec.get("name") or _fail(path, "every rule needs a name")
        when = _condition(path, name, spec.get("when"))
        then = _condition(path, name, spec["then"]) if spec.get("then") else None
        for cond in (when, then):
            if cond is not None and cond.column not in columns:
                raise _fail(path, f"rule {name!r} names unknown column {cond.column!r}")
        action = spec.get("action", "quarantine")
        if action not in ACTIONS:
            raise _fail(path, f"rule {name!r}: action must be one of {sorted(ACTIONS)}")
        rules.append(Rule(name=name, when=when, then=then, action=action))
    return tuple(rules)


def _quality(path: Path, spec: Any) -> dict[str, Any]:
    """The optional `quality:` mapping (detector policy); its keys are checked by the detectors' policy."""
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise _fail(path, "quality must be a mapping of detector settings")
    return spec


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise _fail(path, f"not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise _fail(path, "a contract must be a mapping")
    return data


def parse_canonical(path: Path) -> CanonicalDataset:
    data = _read_yaml(path)
    columns: dict[str, Column] = {}
    for name, spec in (data.get("columns") or {}).items():
        if spec.get("type") not in COLUMN_TYPES:
            raise _fail(path, f"column {name!r}: type must be one of {sorted(COLUMN_TYPES)}")
        allowed = spec.get("allowed")
        columns[name] = Column(
            name=name,
            type=spec["type"],
            required=bool(spec.get("required", False)),
            min=spec.get("min"),
            max=spec.get("max"),
            min_exclusive=bool(spec.get("min_exclusive", False)),
            allowed=tuple(allowed) if allowed else None,
            pattern=spec.get("pattern"),
            not_future=bool(spec.get("not_future", False)),
        )
    if not columns:
        raise _fail(path, "a canonical dataset needs columns")
    key = tuple(data.get("business_key") or ())
    unknown = [k for k in key if k not in columns]
    if unknown:
        raise _fail(path, f"business_key names unknown columns {unknown}")
    partition_by = data.get("partition_by")
    if partition_by is not None and columns.get(partition_by, Column("", "string")).type not in (
        "date",
        "timestamp",
    ):
        raise _fail(path, "partition_by must name a date or timestamp column")
    return CanonicalDataset(
        name=data.get("dataset") or path.stem,
        description=data.get("description", ""),
        partition_by=partition_by,
        business_key=key,
        columns=columns,
        rules=_rules(path, data.get("rules"), set(columns)),
        quality=_quality(path, data.get("quality")),
    )


def parse_source(path: Path) -> SourceContract:
    data = _read_yaml(path)
    for required in ("name", "dataset", "prefix", "format", "columns"):
        if not data.get(required):
            raise _fail(path, f"missing required field {required!r}")
    if data["format"] not in FORMATS:
        raise _fail(path, f"format must be one of {sorted(FORMATS)}")
    canonical = load_canonical(data["dataset"])
    mappings: dict[str, ColumnMapping] = {}
    for target, spec in data["columns"].items():
        if target not in canonical.columns:
            raise _fail(path, f"column {target!r} is not in canonical dataset {canonical.name!r}")
        spec = spec or {}
        unknown = set(spec) - MAPPING_KEYS
        if unknown:
            raise _fail(path, f"column {target!r}: unknown keys {sorted(unknown)}; allowed {sorted(MAPPING_KEYS)}")
        if sum(k in spec for k in ("source", "source_index", "constant")) != 1:
            raise _fail(path, f"column {target!r}: give exactly one of source, source_index, constant")
        mappings[target] = ColumnMapping(
            target=target,
            source=spec.get("source"),
            source_index=spec.get("source_index"),
            constant=spec.get("constant"),
            format=spec.get("format"),
            value_map={str(k): v for k, v in spec["map"].items()} if spec.get("map") else None,
            startswith=spec.get("startswith"),
            strip_suffix=spec.get("strip_suffix"),
        )
    missing = [c.name for c in canonical.columns.values() if c.required and c.name not in mappings]
    if missing:
        raise _fail(path, f"required canonical columns not mapped: {missing}")
    return SourceContract(
        name=data["name"],
        dataset=data["dataset"],
        prefix=data["prefix"],
        format=data["format"],
        csv=dict(data.get("csv") or {}),
        na_values=tuple(str(v) for v in (data.get("na_values") or [""])),
        timezone=data.get("timezone", "UTC"),
        columns=mappings,
        rules=_rules(path, data.get("rules"), set(canonical.columns)),
        quality=_quality(path, data.get("quality")),
        path=str(path),
    )


@cache
def load_canonical(name: str) -> CanonicalDataset:
    path = HERE / "canonical" / f"{name}.yaml"
    if not path.exists():
        raise ContractError(f"no canonical dataset named {name!r} (looked for {path})")
    return parse_canonical(path)


def canonical_names() -> list[str]:
    return sorted(p.stem for p in (HERE / "canonical").glob("*.yaml"))


def load_sources(extra_dirs: tuple[Path, ...] = ()) -> list[SourceContract]:
    """Built-in source contracts plus those in extra directories (a user's own contracts)."""
    paths = sorted((HERE / "sources").glob("*.yaml"))
    for directory in extra_dirs:
        paths.extend(sorted(Path(directory).glob("*.yaml")))
    contracts = [parse_source(p) for p in paths]
    names = [c.name for c in contracts]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ContractError(f"duplicate source contract names: {sorted(duplicates)}")
    return contracts


def route(key: str, contracts: list[SourceContract]) -> SourceContract:
    """The contract whose prefix matches the object key (the longest prefix wins)."""
    matching = [c for c in contracts if key.startswith(c.prefix)]
    if not matching:
        prefixes = ", ".join(sorted(c.prefix for c in contracts))
        raise ContractError(f"no source contract matches key {key!r}; known prefixes: {prefixes}")
    return max(matching, key=lambda c: len(c.prefix))


# ---------------------------------------------------------------- prod datasets (curated-to-prod outputs)
# Same YAML format as canonical/, kept apart in prod/ so that canonical_names() stays the list of curated
# datasets that source contracts can feed.


@cache
def load_prod(name: str) -> CanonicalDataset:
    """The contract of a prod dataset (contracts/prod/<name>.yaml)."""
    path = HERE / "prod" / f"{name}.yaml"
    if not path.exists():
        raise ContractError(f"no prod dataset named {name!r} (looked for {path})")
    return parse_canonical(path)


def prod_names() -> list[str]:
    return sorted(p.stem for p in (HERE / "prod").glob("*.yaml"))

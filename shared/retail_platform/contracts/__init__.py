"""Dataset contracts: canonical schemas and source mappings, loaded from declarative YAML files.

See README.md beside this file for the format. Every contract is checked when loaded, so a typo in a
contract fails with a message naming the file and the field, not later on a row.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from retail_platform.contracts import columns as column_specs
from retail_platform.contracts.columns import ATTRIBUTE_TYPES, CHECKS, COLUMN_TYPES, MAPPING_KEYS, fail
from retail_platform.contracts.expressions import Expression, ExpressionError
from retail_platform.contracts.model import (
    CanonicalDataset,
    Column,
    ColumnMapping,
    Condition,
    Repair,
    Rule,
    SourceContract,
)
from retail_platform.exceptions import ContractError

__all__ = [
    "ATTRIBUTE_TYPES",
    "CHECKS",
    "COLUMN_TYPES",
    "CanonicalDataset",
    "Column",
    "ColumnMapping",
    "Condition",
    "Expression",
    "ExpressionError",
    "Repair",
    "Rule",
    "SourceContract",
    "canonical_names",
    "load_canonical",
    "load_prod",
    "load_sources",
    "parse_canonical",
    "parse_source",
    "prod_names",
    "route",
]

HERE = Path(__file__).resolve().parent
CONDITION_OPS = {"equals", "in", "lt", "le", "gt", "ge", "is_null"}
ACTIONS = {"quarantine", "warn"}
FORMATS = {"csv", "jsonl", "parquet"}
DATASET_KEYS = {"columns", "attributes", "rules", "quality", "aggregate"}
AGGREGATES = {"min", "max"}
_fail = fail


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
    columns = {
        name: column_specs.column(path, name, spec or {}, COLUMN_TYPES)
        for name, spec in (data.get("columns") or {}).items()
    }
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
    name = data.get("dataset") or path.stem
    column_specs.refuse_keys_kept_on_warn(path, name, columns, {*key, partition_by} - {None})
    return CanonicalDataset(
        name=name,
        description=data.get("description", ""),
        partition_by=partition_by,
        business_key=key,
        columns=columns,
        rules=_rules(path, data.get("rules"), set(columns)),
        quality=_quality(path, data.get("quality")),
    )


def _output(path: Path, dataset: str, spec: dict[str, Any], shared: dict[str, Any], collapse: bool) -> SourceContract:
    """One dataset a source feeds: mappings onto its canonical columns, custom attributes, rules."""
    canonical = load_canonical(dataset)
    mappings: dict[str, ColumnMapping] = {}
    schema: dict[str, Column] = {}
    for target, mapped in (spec.get("columns") or {}).items():
        if target not in canonical.columns:
            raise _fail(path, f"column {target!r} is not in canonical dataset {canonical.name!r}")
        mappings[target] = column_specs.mapping(path, target, mapped, MAPPING_KEYS)
        schema[target] = column_specs.with_source_actions(path, canonical.columns[target], mapped or {})
    if not mappings:
        raise _fail(path, f"dataset {dataset!r}: missing required field 'columns'")
    missing = [c.name for c in canonical.columns.values() if c.required and c.name not in mappings]
    if missing:
        raise _fail(path, f"required canonical columns not mapped: {missing}")
    attributes: dict[str, Column] = {}
    specs = spec.get("attributes") or {}
    if not isinstance(specs, dict):
        raise _fail(path, "attributes must be a mapping name -> {source|expr|constant, type}")
    for name, attr in specs.items():
        attributes[name], mappings[name] = column_specs.attribute(path, name, attr, set(canonical.columns))
    schema = {name: schema.get(name, col) for name, col in canonical.columns.items()} | attributes
    keys = {*canonical.business_key, canonical.partition_by} - {None}
    column_specs.refuse_keys_kept_on_warn(path, dataset, schema, keys)
    aggregate = _aggregate(path, dataset, spec.get("aggregate"), schema, canonical.business_key, collapse)
    common = {k: v for k, v in shared.items() if k != "quality"}
    return SourceContract(
        **common,
        dataset=dataset,
        columns=mappings,
        rules=_rules(path, spec.get("rules"), set(canonical.columns) | set(attributes)),
        quality={**shared.get("quality", {}), **_quality(path, spec.get("quality"))},
        attributes=attributes,
        schema=schema,
        collapse=collapse,
        aggregate=aggregate,
    )


def _aggregate(
    path: Path, dataset: str, spec: Any, schema: dict[str, Column], key: tuple[str, ...], collapse: bool
) -> dict[str, str]:
    """`aggregate: {signup_ts: min}`: in a further dataset, the value a key's repeats share (e.g. the first order)."""
    if not spec:
        return {}
    if not collapse:
        raise _fail(path, f"datasets.{dataset}: aggregate applies to the further datasets, not to the primary")
    if not isinstance(spec, dict):
        raise _fail(path, f"datasets.{dataset}: aggregate must map columns to one of {sorted(AGGREGATES)}")
    for name, how in spec.items():
        column = schema.get(name)
        if column is None or name in key:
            raise _fail(path, f"datasets.{dataset}: aggregate names {name!r}, not a non-key column of the dataset")
        if how not in AGGREGATES or column.type not in ("int", "float", "date", "timestamp"):
            raise _fail(path, f"datasets.{dataset}: aggregate {name}: {sorted(AGGREGATES)} of a number or date")
    return dict(spec)


def _csv_options(path: Path, spec: Any, file_format: str) -> dict[str, Any]:
    """`csv:` checked: a one-character delimiter or `whitespace` (runs of blanks, e.g. fixed-width text), and
    `header: false` with the columns' names by position in `column_names`."""
    options = dict(spec or {})
    delimiter = options.get("delimiter", ",")
    if not isinstance(delimiter, str) or (len(delimiter) != 1 and delimiter != "whitespace"):
        raise _fail(path, f"csv.delimiter must be one character or 'whitespace', got {delimiter!r}")
    header = options.get("header", True)
    if not isinstance(header, bool):
        raise _fail(path, f"csv.header must be true or false, got {header!r}")
    names = options.get("column_names")
    if header and names is not None:
        raise _fail(path, "csv.column_names names the columns of a file without a header: set csv.header: false")
    if not header:
        if file_format != "csv":
            raise _fail(path, "csv.header: false applies to format: csv only")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
            raise _fail(path, "csv.header: false needs csv.column_names, the columns' names in file order")
        if len(set(names)) != len(names):
            raise _fail(path, f"csv.column_names repeats a name: {names}")
    return options


def parse_source(path: Path) -> SourceContract:
    data = _read_yaml(path)
    for required in ("name", "prefix", "format"):
        if not data.get(required):
            raise _fail(path, f"missing required field {required!r}")
    if data["format"] not in FORMATS:
        raise _fail(path, f"format must be one of {sorted(FORMATS)}")
    shared = {
        "name": data["name"],
        "prefix": data["prefix"],
        "format": data["format"],
        "csv": _csv_options(path, data.get("csv"), data["format"]),
        "na_values": tuple(str(v) for v in (data.get("na_values") or [""])),
        "timezone": data.get("timezone", "UTC"),
        "quality": _quality(path, data.get("quality")),
        "path": str(path),
    }
    if "datasets" not in data:
        for required in ("dataset", "columns"):
            if not data.get(required):
                raise _fail(path, f"missing required field {required!r}")
        return _output(path, data["dataset"], data, shared, collapse=False)
    datasets = data["datasets"]
    if set(data) & {"dataset", "columns", "attributes", "rules"}:
        raise _fail(path, "give either datasets: or dataset:/columns:/attributes:/rules:, not both")
    if not isinstance(datasets, dict) or not datasets:
        raise _fail(path, "datasets must map canonical dataset names to {columns, attributes, rules, quality}")
    primary = data.get("primary", next(iter(datasets)))
    if primary not in datasets:
        raise _fail(path, f"primary {primary!r} is not one of datasets {list(datasets)}")
    outputs = {}
    for dataset, spec in datasets.items():
        if not isinstance(spec, dict) or set(spec) - DATASET_KEYS:
            raise _fail(path, f"datasets.{dataset}: a mapping with some of {sorted(DATASET_KEYS)}")
        try:
            outputs[dataset] = _output(path, dataset, spec, shared, collapse=dataset != primary)
        except ContractError as e:
            if "no canonical dataset named" in str(e):
                raise _fail(path, f"datasets.{dataset}: {e}") from e
            raise
    also = tuple(c for name, c in outputs.items() if name != primary)
    return dataclasses.replace(outputs[primary], also=also)


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

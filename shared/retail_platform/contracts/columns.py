"""Parsing of one column's YAML: its type and checks (with actions and a repair), and where its value comes from.

Shared by canonical columns, a source's mappings onto them and a source's custom attributes, so the three
accept the same check syntax and fail with the same messages (file and field named).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from retail_platform.contracts import expressions
from retail_platform.contracts.model import Column, ColumnMapping, Repair
from retail_platform.exceptions import ContractError

COLUMN_TYPES = {"string", "text", "int", "float", "bool", "date", "timestamp", "country", "currency", "email", "pan"}
ATTRIBUTE_TYPES = {"string", "float", "int", "bool", "date"}
CHECKS = ("parse", "required", "min", "max", "allowed", "pattern", "not_future")
CHECK_ACTIONS = ("quarantine", "warn", "repair")
CHECK_KEYS = {"required", "min", "max", "min_exclusive", "allowed", "pattern", "not_future", "action", "repair"}
SOURCE_KEYS = ("source", "source_index", "constant", "expr", "row_number")
MAPPING_KEYS = set(SOURCE_KEYS) | {"format", "map", "startswith", "strip_suffix", "action", "repair"}
ATTRIBUTE_KEYS = MAPPING_KEYS | CHECK_KEYS | {"type"}
REPAIR_KEYS = {"strip_suffix", "strip_prefix", "extract"}
ATTRIBUTE_NAME = re.compile(r"[a-z][a-z0-9_]*")


def fail(path: Path | str, message: str) -> ContractError:
    return ContractError(f"{path}: {message}")


def _strings(path: Path | str, where: str, value: Any) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise fail(path, f"{where}: give a non-empty string or a list of them")
    return tuple(values)


def repair(path: Path | str, where: str, spec: Any) -> Repair | None:
    """`repair: {strip_suffix: [" oz"], strip_prefix: ["$"], extract: "regex"}` (any of the three)."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or not spec or set(spec) - REPAIR_KEYS:
        raise fail(path, f"{where}: repair must be a mapping with some of {sorted(REPAIR_KEYS)}")
    extract = spec.get("extract")
    if extract is not None:
        try:
            if re.compile(extract).groups > 1:
                raise fail(path, f"{where}: repair extract may have at most one group")
        except (re.error, TypeError) as e:
            raise fail(path, f"{where}: repair extract is not a valid regex: {e}") from e
    return Repair(
        strip_suffix=_strings(path, f"{where}: strip_suffix", spec["strip_suffix"]) if "strip_suffix" in spec else (),
        strip_prefix=_strings(path, f"{where}: strip_prefix", spec["strip_prefix"]) if "strip_prefix" in spec else (),
        extract=extract,
    )


def actions(path: Path | str, where: str, spec: Any, fix: Repair | None) -> dict[str, str]:
    """`action: warn` (every check of the column) or `action: {parse: repair, min: warn}`; a repair recipe
    without an action means `repair` for every check."""
    if spec is None:
        return {"*": "repair"} if fix is not None else {}
    table = {"*": spec} if isinstance(spec, str) else spec
    if not isinstance(table, dict):
        raise fail(path, f"{where}: action must be one of {list(CHECK_ACTIONS)} or a mapping check -> action")
    for check, action in table.items():
        if check != "*" and check not in CHECKS:
            raise fail(path, f"{where}: action names unknown check {check!r}; checks are {list(CHECKS)}")
        if action not in CHECK_ACTIONS:
            raise fail(path, f"{where}: action {action!r} must be one of {list(CHECK_ACTIONS)}")
    return dict(table)


def column(path: Path | str, name: str, spec: dict[str, Any], types: set[str]) -> Column:
    """A column's type and checks (canonical column or custom attribute)."""
    where = f"column {name!r}"
    if spec.get("type") not in types:
        raise fail(path, f"{where}: type must be one of {sorted(types)}")
    for bound in ("min", "max"):
        if spec.get(bound) is not None and (isinstance(spec[bound], bool) or not isinstance(spec[bound], int | float)):
            raise fail(path, f"{where}: {bound} must be a number")
    if spec.get("pattern") is not None:
        try:
            re.compile(spec["pattern"])
        except (re.error, TypeError) as e:
            raise fail(path, f"{where}: pattern is not a valid regex: {e}") from e
    fix = repair(path, where, spec.get("repair"))
    allowed = spec.get("allowed")
    return Column(
        name=name,
        type=spec["type"],
        required=bool(spec.get("required", False)),
        min=spec.get("min"),
        max=spec.get("max"),
        min_exclusive=bool(spec.get("min_exclusive", False)),
        allowed=tuple(allowed) if allowed else None,
        pattern=spec.get("pattern"),
        not_future=bool(spec.get("not_future", False)),
        actions=actions(path, where, spec.get("action"), fix),
        repair=fix,
    )


def mapping(path: Path | str, target: str, spec: Any, allowed_keys: set[str], label: str = "column") -> ColumnMapping:
    """Where one output column's value comes from: a source column, a position, a constant or an expression."""
    where = f"{label} {target!r}"
    spec = spec or {}
    if not isinstance(spec, dict):
        raise fail(path, f"{where}: a mapping such as {{source: Name}} is needed")
    unknown = set(spec) - allowed_keys
    if unknown:
        raise fail(path, f"{where}: unknown keys {sorted(unknown)}; allowed {sorted(allowed_keys)}")
    if sum(k in spec for k in SOURCE_KEYS) != 1:
        raise fail(path, f"{where}: give exactly one of {', '.join(SOURCE_KEYS)}")
    expr = None
    if "expr" in spec:
        try:
            expr = expressions.parse(spec["expr"])
        except expressions.ExpressionError as e:
            raise fail(path, f"{where}: expression {spec['expr']!r}: {e}") from e
        if set(spec) & {"map", "startswith", "strip_suffix"}:
            raise fail(path, f"{where}: map, startswith and strip_suffix apply to a source column, not to expr")
    if "row_number" in spec and spec["row_number"] is not True:
        raise fail(path, f"{where}: row_number must be true (the row's 1-based position among the file's data rows)")
    return ColumnMapping(
        target=target,
        source=spec.get("source"),
        source_index=spec.get("source_index"),
        constant=spec.get("constant"),
        expr=expr,
        format=spec.get("format"),
        value_map={str(k): v for k, v in spec["map"].items()} if spec.get("map") else None,
        startswith=spec.get("startswith"),
        strip_suffix=spec.get("strip_suffix"),
        row_number="row_number" in spec,
    )


def with_source_actions(path: Path | str, canonical: Column, spec: dict[str, Any]) -> Column:
    """A canonical column with the actions and repair a source contract gives it (its own win)."""
    if "action" not in spec and "repair" not in spec:
        return canonical
    where = f"column {canonical.name!r}"
    fix = repair(path, where, spec.get("repair")) or canonical.repair
    own = actions(path, where, spec.get("action"), repair(path, where, spec.get("repair")))
    merged = {**canonical.actions, **own}
    return dataclasses.replace(canonical, actions=merged, repair=fix)


def refuse_keys_kept_on_warn(path: Path | str, dataset: str, schema: dict[str, Column], keys: set[str]) -> None:
    """A business key or partition column cannot be kept missing: `warn` on its parse or required check is refused."""
    for name in sorted(keys):
        col = schema.get(name)
        if col is None:
            continue
        for check in ("parse", "required"):
            if col.action_for(check) == "warn":
                raise fail(
                    path,
                    f"column {name!r}: action warn on {check} would keep rows without a {name} "
                    f"(a key or partition column of {dataset!r}); use quarantine or repair",
                )


def attribute(path: Path | str, name: str, spec: Any, canonical_columns: set[str]) -> tuple[Column, ColumnMapping]:
    """A custom attribute: a snake_case name beside the canonical columns, its type (string by default) and mapping."""
    if not ATTRIBUTE_NAME.fullmatch(str(name)):
        raise fail(path, f"attribute {name!r}: name must be snake_case (a-z, 0-9, _; starting with a letter)")
    if name in canonical_columns:
        raise fail(path, f"attribute {name!r}: collides with a canonical column of the same name")
    spec = dict(spec or {})
    unknown = set(spec) - ATTRIBUTE_KEYS
    if unknown:
        raise fail(path, f"attribute {name!r}: unknown keys {sorted(unknown)}; allowed {sorted(ATTRIBUTE_KEYS)}")
    spec.setdefault("type", "string")
    checks = {k: v for k, v in spec.items() if k in CHECK_KEYS | {"type"}}
    source = {k: v for k, v in spec.items() if k not in CHECK_KEYS | {"type"}}
    return column(path, name, checks, ATTRIBUTE_TYPES), mapping(path, name, source, MAPPING_KEYS, "attribute")

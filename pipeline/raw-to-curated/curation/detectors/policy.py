"""What a contract may say about detection: the optional `quality:` mapping of a source or canonical contract.

```yaml
quality:
  ignore_columns: [notes]              # never looked at by any detector
  default_action: warn                 # quarantine | repair | warn (default warn)
  typo: {action: repair, columns: [category], repair_ratio: 20}
  robust_zscore: {group_by: [sku], threshold: 6}
  isolation_forest: {enabled: false}
  dependency: {auto: true, min_strength: 0.95}
  dependencies:                        # declared functional dependencies (checked even when auto is off)
    - {determinant: [postcode], dependent: city}
  drift: {k: 3}
```

Every detector accepts `enabled` (or just `typo: false`), `columns` (restrict it to these columns) and
`action`; `robust_zscore` also accepts `group_by` (`[]`: global z-scores only, no automatic grouping); the
thresholds each detector accepts are listed in DEFAULTS (`drift` ones apply to `drift.compare`). Unknown keys
and wrong types fail loudly with a ContractError naming the key.
The action is only carried here: the curation engine applies it. `repair` applies to flags that carry a
repair (typos with a clear dominant variant); other flags of a detector set to `repair` are kept with a warning.

Grouping keys: when a contract sets neither `typo.action` nor `default_action`, typos in the columns that
prod groups by (`typo.key_columns`: category, brand, region, ... and every custom attribute, i.e. a
column that no canonical dataset has) are repaired by default, so that a misspelling never becomes a
market, a segment or a product group; typos elsewhere are warned as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from retail_platform.contracts import canonical_names, load_canonical
from retail_platform.exceptions import ContractError

ACTIONS = ("quarantine", "repair", "warn")

DEFAULTS: dict[str, dict[str, Any]] = {
    "typo": {
        "rare_share": 0.01,  # a value is rare when it has at most this share of the column's values ...
        "rare_count": 3,  # ... or at most this many occurrences
        "min_ratio": 3.0,  # the close variant must be this many times more frequent to flag
        "repair_ratio": 20.0,  # ... and this many times to propose it as a repair
        "max_distance": 2,  # Damerau-Levenshtein distance allowed for long values (1 for 4-9 characters)
        "min_similarity": 0.8,  # 1 - distance / length
        "max_distinct": 2000,  # columns with more distinct values are not categorical
        # grouping keys (plus every custom attribute): typos repaired by default, and a typo-shaped variant
        # (case/space/accent, two adjacent letters swapped, an inner letter dropped or doubled) of a value
        # this many times more frequent is a clear repair even in a small table
        "key_columns": ["category", "sub_category", "brand", "country", "region", "channel", "segment", "department"],
        "key_repair_ratio": 2.0,
    },
    "rare_category": {
        "max_count": 3,  # occurrences of a rare value
        "gap_ratio": 50.0,  # every other value is at least this many times more frequent
        "max_distinct": 50,
        "min_rows": 200,
        "max_rare_values": 3,  # more rare values than this: the column has a long tail, nothing is odd
    },
    "pattern": {
        "min_share": 0.95,  # the dominant shape covers at least this share of the non-null values
        "max_breaker_share": 0.01,  # a shape this common is a legitimate minority, not a breaker
        "min_rows": 50,
    },
    "placeholder": {
        "tokens": [],  # extra placeholder strings, compared case-insensitively
        "max_share": 0.5,  # a 'placeholder' covering more of the column is its convention, not a defect
        "spike_ratio": 10.0,  # numeric sentinel: this many times more frequent than its neighbouring values
        "min_spike_count": 3,
    },
    "near_duplicate": {
        "ignore": [],  # columns left out of the comparison (e.g. a surrogate id or a load timestamp)
        "max_collision_share": 0.01,  # rows differing in one column this often is the data's structure
    },
    "dependency": {
        "auto": True,  # discover dependencies from the data
        "min_strength": 0.95,  # share of rows (in determinant groups of >= 2 rows) carrying their group's majority
        "min_groups": 10,
        "max_error_ratio": 0.5,  # violations must be at most this share of those expected by chance
        "majority_ratio": 2.0,  # the majority value is at least this many times the flagged one's count
        "tolerance": 0.25,  # numeric dependents: a group is consistent when max/min <= 1 + tolerance
        "far_ratio": 2.0,  # numeric dependents: flag values more than this factor away from the group median
        "max_sample_rows": 50_000,  # discovery runs on whole determinant groups covering about this many rows
    },
    "robust_zscore": {
        "threshold": 5.0,  # |robust z| above this is an outlier
        "min_rows": 30,
        "min_group_size": 5,
        "max_sample_rows": 50_000,  # the group key is chosen on a sample of this many rows
    },
    "isolation_forest": {
        "min_rows": 200,
        "min_columns": 2,
        "score_threshold": 0.7,  # anomaly score s(x) in (0, 1); 0.5 is average, 1 is isolated at once
        "margin": 0.02,  # ... and above the extrapolated score of the most unusual ordinary row by this
        "max_fit_rows": 50_000,
        "n_estimators": 100,
        "max_samples": 2048,  # rows per tree
    },
    "drift": {
        "k": 3.0,  # mean +- k * std with enough history
        "min_history": 3,
        "max_change": 0.5,  # relative change flagged with little history
        "psi": 0.25,  # population stability index of the category mix
        "max_share_change": 0.2,  # absolute change of a category's share
        "min_tolerance": 0.05,  # relative floor of the band (a perfectly stable history still allows 5 %)
    },
}
COMMON_KEYS = {"enabled", "columns", "action"}
EXTRA_KEYS = {"robust_zscore": {"group_by"}}
DETECTOR_NAMES = (*DEFAULTS,)
TOP_KEYS = {"ignore_columns", "default_action", "dependencies", *DEFAULTS}


@dataclass(frozen=True)
class Dependency:
    determinant: tuple[str, ...]
    dependent: str


@dataclass(frozen=True)
class DetectorPolicy:
    enabled: bool = True
    columns: tuple[str, ...] | None = None
    action: str = "warn"
    group_by: tuple[str, ...] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    action_given: bool = False  # the contract named the action (else it is the default)


def _fail(message: str) -> ContractError:
    return ContractError(f"quality: {message}")


def _names(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise _fail(f"{where} must be a column name or a list of column names")
    return tuple(value)


def _detector(name: str, spec: Any, default_action: str) -> DetectorPolicy:
    if spec is None:
        spec = {}
    if isinstance(spec, bool):
        spec = {"enabled": spec}
    if not isinstance(spec, dict):
        raise _fail(f"{name} must be a mapping (or true/false)")
    allowed = COMMON_KEYS | EXTRA_KEYS.get(name, set()) | set(DEFAULTS[name])
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise _fail(f"{name}: unknown key(s) {unknown}; allowed {sorted(allowed)}")
    action = spec.get("action", default_action)
    if action not in ACTIONS:
        raise _fail(f"{name}: action must be one of {list(ACTIONS)}, got {action!r}")
    params = dict(DEFAULTS[name])
    for key, default in DEFAULTS[name].items():
        if key not in spec:
            continue
        value = spec[key]
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise _fail(f"{name}.{key} must be true or false")
        elif isinstance(default, int | float):
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise _fail(f"{name}.{key} must be a non-negative number, got {value!r}")
            value = type(default)(value) if isinstance(default, float) else value
        elif isinstance(default, list):
            value = list(_names(value, f"{name}.{key}"))
        params[key] = value
    return DetectorPolicy(
        enabled=bool(spec.get("enabled", True)),
        columns=_names(spec["columns"], f"{name}.columns") if spec.get("columns") is not None else None,
        action=action,
        group_by=_names(spec["group_by"], f"{name}.group_by") if spec.get("group_by") is not None else None,
        params=params,
        action_given="action" in spec,
    )


@dataclass(frozen=True)
class QualityPolicy:
    """Per-detector switches, columns, actions and thresholds, plus declared dependencies."""

    detectors: dict[str, DetectorPolicy] = field(default_factory=dict)
    dependencies: tuple[Dependency, ...] = ()
    ignore_columns: tuple[str, ...] = ()
    default_action: str = "warn"
    default_action_given: bool = False

    @classmethod
    def from_mapping(cls, data: dict[str, Any] | None) -> QualityPolicy:
        """Build from a contract's `quality:` mapping (None or {} = every detector on, columns chosen automatically)."""
        data = data or {}
        if not isinstance(data, dict):
            raise _fail("must be a mapping")
        unknown = sorted(set(data) - TOP_KEYS)
        if unknown:
            raise _fail(f"unknown key(s) {unknown}; allowed {sorted(TOP_KEYS)}")
        default_action = data.get("default_action", "warn")
        if default_action not in ACTIONS:
            raise _fail(f"default_action must be one of {list(ACTIONS)}")
        detectors = {name: _detector(name, data.get(name), default_action) for name in DEFAULTS}
        deps = []
        for i, spec in enumerate(data.get("dependencies") or []):
            if not isinstance(spec, dict) or set(spec) != {"determinant", "dependent"}:
                raise _fail(f"dependencies[{i}] needs exactly 'determinant' and 'dependent'")
            dependent = spec["dependent"]
            if not isinstance(dependent, str):
                raise _fail(f"dependencies[{i}].dependent must be one column name")
            deps.append(Dependency(_names(spec["determinant"], f"dependencies[{i}].determinant"), dependent))
        ignore = _names(data.get("ignore_columns") or [], "ignore_columns")
        return cls(detectors, tuple(deps), ignore, default_action, "default_action" in data)

    def detector(self, name: str) -> DetectorPolicy:
        return self.detectors.get(name) or DetectorPolicy(action=self.default_action, params=dict(DEFAULTS[name]))

    def enabled(self, name: str) -> bool:
        return self.detector(name).enabled

    def params(self, name: str) -> dict[str, Any]:
        return self.detector(name).params

    def columns(self, name: str) -> tuple[str, ...] | None:
        return self.detector(name).columns

    def action_for(self, detector: str, column: str | None = None) -> str:
        """quarantine | repair | warn for a flag's `detector` in `column` (names outside DEFAULTS get the
        default action; typos in grouping keys are repaired unless the contract says otherwise)."""
        if detector not in DEFAULTS:
            return self.default_action
        policy = self.detector(detector)
        if (
            detector == "typo"
            and column is not None
            and not policy.action_given
            and not self.default_action_given
            and grouping_key(column, policy.params["key_columns"])
        ):
            return "repair"
        return policy.action


@cache
def canonical_columns() -> frozenset[str]:
    """Every column name of every canonical dataset."""
    return frozenset(c for name in canonical_names() for c in load_canonical(name).columns)


def grouping_key(column: str, key_columns: list[str] | tuple[str, ...]) -> bool:
    """A column prod groups by: a named key column or a custom attribute (no canonical dataset has it)."""
    return column in key_columns or column not in canonical_columns()

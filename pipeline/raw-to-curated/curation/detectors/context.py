"""What every detector needs to know about a frame: column roles and per-column value codes, computed once."""

from __future__ import annotations

import re
import string
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from operator import methodcaller

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from curation.arrowcols import factorize
from curation.detectors.policy import QualityPolicy

TEXT_TYPES = {"string", "text", "country", "currency", "email"}
CATEGORICAL_TYPES = {"string", "country", "currency"}
NUMERIC_TYPES = {"int", "float"}
TEMPORAL_TYPES = {"date", "timestamp"}
SKIPPED_TYPES = {"pan"}  # masked card numbers carry nothing a detector could use

# Name parts that mark a column as an identifier or code: its numbers are labels, not quantities.
ID_TOKENS = {
    "id",
    "ids",
    "no",
    "nr",
    "num",
    "number",
    "code",
    "key",
    "sku",
    "ean",
    "upc",
    "gtin",
    "isbn",
    "zip",
    "zipcode",
    "postcode",
    "postal",
    "plz",
    "phone",
    "tel",
    "telephone",
    "fax",
    "mobile",
    "iban",
    "bic",
    "account",
    "invoice",
    "ref",
    "reference",
    "uuid",
    "guid",
    "hash",
    "serial",
    "ssn",
    "vat",
    "barcode",
    "provider",
}
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")

_SHAPE = str.maketrans(
    {
        **dict.fromkeys(string.ascii_uppercase, "A"),
        **dict.fromkeys(string.ascii_lowercase, "a"),
        **dict.fromkeys(string.digits, "9"),
    }
)
_STRIP = str.maketrans("", "", string.punctuation + string.whitespace)
_STRIP_PATTERN = "[" + re.escape(string.punctuation + string.whitespace).replace("\\ ", " ") + "]"  # as RE2 reads it


def name_tokens(name: str) -> set[str]:
    return {w.lower() for w in _WORDS.findall(str(name))}


def fold(text: str) -> str:
    """Case-, accent- and whitespace-insensitive form of a value: 'München ' -> 'munchen'."""
    if not text.isascii():
        text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return " ".join(text.casefold().split())


def squash(text: str) -> str:
    """`fold` without punctuation and spaces, for near-duplicate comparison: 'Home & Kitchen' -> 'homekitchen'."""
    if text.isascii():
        return text.lower().translate(_STRIP)
    return "".join(ch for ch in fold(text) if ch.isalnum())


def shapes_of(texts: list[str]) -> list[str]:
    """`shape` of many values, at C speed for ASCII ones."""
    out = list(map(methodcaller("translate", _SHAPE), texts))
    for i in [i for i, ok in enumerate(map(str.isascii, out)) if not ok]:
        out[i] = shape(texts[i])
    return out


def squashed(texts: list[str]) -> list[str]:
    """`squash` of many values, at C speed for ASCII ones."""
    out = list(map(methodcaller("translate", _STRIP), map(str.lower, texts)))
    for i in [i for i, ok in enumerate(map(str.isascii, texts)) if not ok]:
        out[i] = squash(texts[i])
    return out


def squashed_codes(texts: list[str]) -> np.ndarray:
    """Codes of the values' `squash` (equal squashed forms, equal codes), in Arrow kernels for ASCII values."""
    values = pa.array(texts, type=pa.string())
    out = pc.replace_substring_regex(pc.ascii_lower(values), _STRIP_PATTERN, "")
    other = np.flatnonzero(~pc.string_is_ascii(values).to_numpy(zero_copy_only=False))
    if other.size:
        forms = out.to_pylist()
        for i in other.tolist():
            forms[i] = squash(texts[i])
        out = pa.array(forms, type=pa.string())
    return pc.dictionary_encode(out).indices.to_numpy(zero_copy_only=False).astype(np.int64)


def shape(text: str) -> str:
    """Exact shape of a value: upper-case letter -> A, lower-case -> a, digit -> 9, the rest kept.

    'Ab-12' -> 'Aa-99'.
    """
    s = text.translate(_SHAPE)
    if s.isascii():
        return s
    return "".join("9" if ch.isdigit() else ("A" if ch.isupper() else "a") if ch.isalpha() else ch for ch in s)


_RUNS = re.compile(r"[Aa]+|9+|\s+")


def collapsed(exact_shape: str) -> str:
    """Shape with runs collapsed and case ignored: 'AAA-99999' -> 'A-9', 'Aa Aaaa' -> 'A A'."""
    return _RUNS.sub(lambda m: "A" if m.group()[0] in "Aa" else "9" if m.group()[0] == "9" else " ", exact_shape)


def infer_type(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    return "string"


@dataclass
class Factor:
    """A column as integer codes (-1 = missing), its distinct values and their counts."""

    codes: np.ndarray
    uniques: np.ndarray | pd.DatetimeIndex
    counts: np.ndarray

    @property
    def non_null(self) -> int:
        return int(self.counts.sum())

    @property
    def distinct(self) -> int:
        return len(self.uniques)


class Context:
    """The frame's data columns (lineage `_` columns and ignored ones left out), their types and roles."""

    def __init__(
        self, frame: pd.DataFrame, columns: dict[str, str], policy: QualityPolicy, memo: dict | None = None
    ) -> None:
        self.frame = frame
        self.policy = policy
        ignored = set(policy.ignore_columns)
        self.names: list[str] = [
            c
            for c in frame.columns
            if isinstance(c, str)
            and not c.startswith("_")
            and c not in ignored
            and (columns.get(c) or infer_type(frame[c])) not in SKIPPED_TYPES
        ]
        self.types: dict[str, str] = {c: columns.get(c) or infer_type(frame[c]) for c in self.names}
        self.n = len(frame)
        self._factors: dict[str, Factor] = {}
        self._values: dict[str, np.ndarray] = {}
        self.cache: dict[object, object] = {}  # per-detector memo (e.g. value shapes), shared with the profile
        # what the data's structure is (a measure's grouping, the dependencies that hold), found on the first batch
        # of a file and kept for its later batches: a file's batches are one source, cut at an arbitrary row
        self.memo: dict[object, object] = {} if memo is None else memo

    # ------------------------------------------------------------------ value access
    def factor(self, name: str) -> Factor:
        if name not in self._factors:
            series = self.frame[name]
            if self.types[name] in TEXT_TYPES:
                codes, uniques = factorize(series)
                uniques = uniques.astype(object, copy=False)
            else:
                codes, uniques = pd.factorize(series, use_na_sentinel=True)
                # timestamps stay a DatetimeIndex (its items are Timestamps, as an object array's were): turning
                # a zoned index into an object array builds one Python Timestamp per distinct value
                uniques = uniques if isinstance(uniques, pd.DatetimeIndex) else np.asarray(uniques)
            counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
            self._factors[name] = Factor(np.asarray(codes, dtype=np.int64), uniques, counts)
        return self._factors[name]

    def texts(self, name: str) -> list[str]:
        """The column's distinct values as strings (aligned with its Factor's uniques), memoised."""
        key = ("texts", name)
        if key not in self.cache:
            uniques = self.factor(name).uniques
            if pd.api.types.infer_dtype(uniques, skipna=False) == "string":
                self.cache[key] = uniques.tolist()
            else:
                self.cache[key] = [v if isinstance(v, str) else str(v) for v in uniques.tolist()]
        return self.cache[key]  # type: ignore[return-value]

    def numbers(self, name: str) -> np.ndarray:
        """A numeric column as float64 with NaN for missing values."""
        if name not in self._values:
            self._values[name] = (
                pd.to_numeric(self.frame[name], errors="coerce")
                .astype("float64")
                .to_numpy(dtype=np.float64, na_value=np.nan)
            )
        return self._values[name]

    def sample_rows(self, k: int, salt: int = 0) -> np.ndarray | None:
        """Sorted positions of a deterministic random sample of k rows, or None when the frame is small enough."""
        if self.n <= k:
            return None
        return np.sort(np.random.default_rng(salt).choice(self.n, size=k, replace=False))

    # ------------------------------------------------------------------ roles
    def allowed(self, detector: str, names: list[str]) -> list[str]:
        chosen = self.policy.columns(detector)
        return [c for c in names if chosen is None or c in chosen]

    @cached_property
    def identifiers(self) -> set[str]:
        """Columns whose values are labels: named like ids/codes, or nearly unique strings/integers."""
        out = set()
        for name in self.names:
            kind = self.types[name]
            if kind in ("bool", "date", "timestamp", "text", "email"):
                continue
            if name_tokens(name) & ID_TOKENS:
                out.add(name)
                continue
            if kind in ("string", "int"):
                f = self.factor(name)
                if f.non_null >= 20 and f.distinct >= 0.9 * f.non_null:
                    out.add(name)
        return out

    def of_types(self, kinds: set[str]) -> list[str]:
        return [c for c in self.names if self.types[c] in kinds]

    @cached_property
    def numeric(self) -> list[str]:
        """Measures: int/float columns that are not identifiers."""
        return [c for c in self.of_types(NUMERIC_TYPES) if c not in self.identifiers]

    def is_text_valued(self, name: str) -> bool:
        return self.types[name] in TEXT_TYPES or self.frame[name].dtype == object

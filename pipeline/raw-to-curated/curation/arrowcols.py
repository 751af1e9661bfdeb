"""Column operations done on the Arrow data behind `string[pyarrow]` series, without Python objects per cell.

pandas turns an Arrow-backed string column into an object array (one Python str per cell) before it
factorizes or hashes it; on a million-row batch that conversion costs more than the work itself. Arrow's
dictionary encoding gives the same codes (distinct values in order of first appearance, nulls apart),
and string edits run once per distinct value: exports repeat their values a lot.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplying by it is a bijection on uint64
_NULL_HASH = np.uint64(0x5BD1E9955BD1E995)
_HASH_BYTES = 4 << 20  # bytes hashed at once: three uint64 temporaries of this many elements (~100 MB)


def arrow_strings(series: pd.Series) -> pa.Array | None:
    """The series' values as one Arrow string array, or None when it is not Arrow-backed text."""
    array = series.array
    if isinstance(array, pd.arrays.ArrowStringArray | pd.arrays.ArrowExtensionArray):
        data = array._pa_array  # the ChunkedArray pandas wraps (no public accessor in pandas 2.x)
        if pa.types.is_string(data.type) or pa.types.is_large_string(data.type):
            return data.combine_chunks() if data.num_chunks != 1 else data.chunk(0)
    return None


def as_strings(series: pd.Series) -> pa.Array:
    """The series as one Arrow string array: its own data when Arrow-backed, else converted (missing: null)."""
    data = arrow_strings(series)
    if data is None:
        data = pa.array(series.astype(object).where(series.notna(), None).tolist(), type=pa.string())
    return data


def factorize(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(int64 codes with -1 for missing, distinct values in order of first appearance) like `pd.factorize`."""
    data = arrow_strings(series)
    if data is None:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        return np.asarray(codes, dtype=np.int64), np.asarray(uniques)
    codes, dictionary = _encode(data)
    return codes, dictionary.to_numpy(zero_copy_only=False)


def _encode(data: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(codes, dictionary) of an Arrow string array; an array already encoded since `forget_encodings` is looked
    up, not encoded again (a batch's columns are factorized, hashed and searched by several steps)."""
    memo: dict | None = getattr(_ENCODINGS, "memo", None)
    if memo is None or len(memo) >= _MAX_ENCODINGS:  # bounded even where no one calls forget_encodings
        memo = _ENCODINGS.memo = {}
    key = _array_key(data)
    if key not in memo:
        encoded = pc.dictionary_encode(data)
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        codes.flags.writeable = False  # shared by every caller
        memo[key] = (data, codes, encoded.dictionary)  # `data` held: its buffers' addresses stay its own
    _, codes, dictionary = memo[key]
    return codes, dictionary


def _array_key(data: pa.Array) -> tuple:
    return (data.type, data.offset, len(data), *(b.address if b is not None else 0 for b in data.buffers()))


def _encoded(data: pa.Array) -> bool:
    """Whether `_encode` has the array's encoding at hand (then hashing its distinct values is the cheaper way)."""
    return _array_key(data) in (getattr(_ENCODINGS, "memo", None) or {})


_ENCODINGS = threading.local()
_MAX_ENCODINGS = 64


def forget_encodings() -> None:
    """Drop the encodings `_encode` keeps (once a batch is done: its arrays are no longer needed)."""
    _ENCODINGS.memo = {}


def row_hashes(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """A 64-bit hash of each row's values in `columns`, stable across batches of one file (equal rows, equal hash).

    The columns' hashes (`column_hashes`) are combined in order.
    """
    combined = np.zeros(len(frame), dtype=np.uint64)
    for column in columns:
        with np.errstate(over="ignore"):
            combined = combined * GOLDEN + column_hashes(frame[column])
    return combined


def column_hashes(series: pd.Series) -> np.ndarray:
    """A 64-bit hash of each value: Arrow text from its bytes (`hash_strings`), each distinct value once unless
    nearly all are distinct (ids); other columns with pandas' SipHash of each distinct value."""
    data = arrow_strings(series)
    if data is not None and not _encoded(data) and _mostly_distinct(data):
        return hash_strings(data)
    if data is not None:
        codes, dictionary = _encode(data)
        hashed = hash_strings(dictionary)
    else:
        codes, uniques = factorize(series)
        hashed = pd.util.hash_pandas_object(pd.Series(uniques, dtype=object), index=False).to_numpy()
    return np.where(codes >= 0, hashed[codes] if hashed.size else _NULL_HASH, _NULL_HASH)


def _mostly_distinct(data: pa.Array, head: int = 2048) -> bool:
    sample = data.slice(0, head)
    return len(sample) > 0 and pc.count_distinct(sample).as_py() > 0.95 * len(sample)


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, in place: a bijection on uint64 whose outputs look independent."""
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def hash_strings(data: pa.Array) -> np.ndarray:
    """A 64-bit hash of each string from its UTF-8 bytes, vectorised over Arrow's buffers (missing: a constant).

    Each (position, byte) pair is mixed on its own and the mixes are summed per string with its length mixed in:
    equal strings hash equal, and different strings collide with the odds of random 64-bit values.
    """
    data = data.cast(pa.large_string())  # 64-bit offsets whatever the input
    offsets = np.frombuffer(data.buffers()[1], dtype=np.int64)[data.offset : data.offset + len(data) + 1]
    first, last = int(offsets[0]), int(offsets[-1])
    if last - first > _HASH_BYTES and len(data) > 1:  # long texts: a slice at a time keeps the temporaries small
        step = max(1, len(data) * _HASH_BYTES // (last - first))
        return np.concatenate([hash_strings(data.slice(i, step)) for i in range(0, len(data), step)])
    lengths = np.diff(offsets)
    body = data.buffers()[2]
    chars = np.frombuffer(body, dtype=np.uint8)[first:last] if body is not None else np.empty(0, dtype=np.uint8)
    starts = offsets[:-1] - first
    position = np.arange(last - first, dtype=np.int64) - np.repeat(starts, lengths)
    mixed = mix64((position.astype(np.uint64) << np.uint64(8)) | chars.astype(np.uint64))
    sums = np.zeros(len(data), dtype=np.uint64)
    filled = lengths > 0
    if filled.any():
        sums[filled] = np.add.reduceat(mixed, starts[filled])
    with np.errstate(over="ignore"):
        hashed = mix64(sums + mix64(lengths.astype(np.uint64) + GOLDEN))
    if data.null_count:
        hashed[data.is_null().to_numpy(zero_copy_only=False)] = _NULL_HASH
    return hashed


def map_text(series: pd.Series, edit: Callable[[pa.Array], pa.Array]) -> pd.Series:
    """Apply an Arrow string kernel to an Arrow-backed text column, once per distinct value when values repeat."""
    data = as_strings(series)
    codes, dictionary = _encode(data)
    if len(dictionary) > len(data) // 2:
        result = edit(data)
    else:
        indices = pa.array(codes, mask=codes < 0).cast(pa.int32())
        result = pc.take(edit(dictionary), indices)
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([result.cast(pa.string())])), index=series.index)


def matches(series: pd.Series, pattern: str) -> np.ndarray:
    """Which cells contain a match of the (RE2) pattern, tested once per distinct value; missing cells: False."""
    data = arrow_strings(series)
    if data is None:
        return series.astype("string[pyarrow]").str.contains(pattern, regex=True).fillna(False).to_numpy(dtype=bool)
    codes, dictionary = _encode(data)
    if len(dictionary) > len(data) // 2:
        return pc.match_substring_regex(data, pattern).fill_null(False).to_numpy(zero_copy_only=False)
    found = np.append(pc.match_substring_regex(dictionary, pattern).to_numpy(zero_copy_only=False), False)
    return found[codes]  # code -1 (missing) picks the appended False

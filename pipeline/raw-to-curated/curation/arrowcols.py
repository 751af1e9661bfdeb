"""Column operations done on the Arrow data behind `string[pyarrow]` series, without Python objects per cell.

pandas turns an Arrow-backed string column into an object array (one Python str per cell) before it
factorizes or hashes it; on a million-row batch that conversion costs more than the work itself. Arrow's
dictionary encoding gives the same codes (distinct values in order of first appearance, nulls apart),
and string edits run once per distinct value: exports repeat their values a lot.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd: multiplying by it is a bijection on uint64
_NULL_HASH = np.uint64(0x5BD1E9955BD1E995)


def arrow_strings(series: pd.Series) -> pa.Array | None:
    """The series' values as one Arrow string array, or None when it is not Arrow-backed text."""
    array = series.array
    if isinstance(array, pd.arrays.ArrowStringArray | pd.arrays.ArrowExtensionArray):
        data = array._pa_array  # the ChunkedArray pandas wraps (no public accessor in pandas 2.x)
        if pa.types.is_string(data.type) or pa.types.is_large_string(data.type):
            return data.combine_chunks() if data.num_chunks != 1 else data.chunk(0)
    return None


def factorize(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(int64 codes with -1 for missing, distinct values in order of first appearance) like `pd.factorize`."""
    data = arrow_strings(series)
    if data is None:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        return np.asarray(codes, dtype=np.int64), np.asarray(uniques)
    encoded = pc.dictionary_encode(data)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return codes, encoded.dictionary.to_numpy(zero_copy_only=False)


def row_hashes(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """A 64-bit hash of each row's values in `columns`, stable across batches of one file (equal rows, equal hash).

    Each distinct value is hashed once (pandas' SipHash of the value), then the columns are combined in order.
    """
    combined = np.zeros(len(frame), dtype=np.uint64)
    for column in columns:
        codes, uniques = factorize(frame[column])
        hashed = pd.util.hash_pandas_object(pd.Series(uniques, dtype=object), index=False).to_numpy()
        values = np.where(codes >= 0, hashed[codes] if hashed.size else _NULL_HASH, _NULL_HASH)
        with np.errstate(over="ignore"):
            combined = combined * _MIX + values
    return combined


def map_text(series: pd.Series, edit: Callable[[pa.Array], pa.Array]) -> pd.Series:
    """Apply an Arrow string kernel to an Arrow-backed text column, once per distinct value when values repeat."""
    data = arrow_strings(series)
    if data is None:
        data = pa.array(series.astype(object).where(series.notna(), None).tolist(), type=pa.string())
    encoded = pc.dictionary_encode(data)
    if len(encoded.dictionary) > len(data) // 2:
        result = edit(data)
    else:
        result = pc.take(edit(encoded.dictionary), encoded.indices)
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([result.cast(pa.string())])), index=series.index)

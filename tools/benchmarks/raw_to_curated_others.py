"""pandera and Great Expectations doing a contract's checks on a CSV: the comparison of raw_to_curated.py.

    .venv-bench/bin/python tools/benchmarks/raw_to_curated_others.py pandera|gx INPUT.csv SPEC.json

Runs in its own venv (tools/benchmarks/requirements.txt: both libraries pin dependencies that the platform's
.venv does not share), so it imports nothing of the platform. SPEC.json is written by raw_to_curated.py from
the source contract: per source column its type (int, float, timestamp with its format, text), whether it is
required, its minimum and its allowed values (booleans and codes), and the business key. Each tool reads the
cells as strings with pyarrow (as the curation does: a bad cell must be seen as written), does the type,
range, allowed-value, required and business-key checks the way its documentation shows, collecting every
failure (pandera `lazy=True`, GX `result_format: COMPLETE`), and counts the rows that fail any check.
Writing the valid rows is not timed for them (the curation's time includes its writes).
Prints one JSON line: seconds, rows, failed_rows, peak_rss_mb.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings
from importlib import import_module

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv


def read_strings(path: str, columns: list[str]) -> pd.DataFrame:
    options = pa_csv.ConvertOptions(column_types={c: pa.string() for c in columns}, strings_can_be_null=False)
    frame = pa_csv.read_csv(path, convert_options=options).to_pandas()
    return frame.replace("", None)  # an empty cell is missing, as the contract's na_values say


def with_pandera(path: str, spec: dict) -> int:
    """Typed columns are parsed by pandera `Parser`s (failures become missing, so a required column's unparseable
    cell fails its not-null check): pandera's own dtype coercion of a column with bad cells re-parses every cell
    alone to find them (`numpy_pandas_coerce_failure_cases`), about a millisecond a cell."""
    import pandera.pandas as pa_pd

    parse = {
        "int": lambda s: pd.to_numeric(s, errors="coerce"),
        "float": lambda s: pd.to_numeric(s, errors="coerce"),
    }
    columns = {}
    for name, rule in spec["columns"].items():
        checks = []
        if rule["type"] == "int":
            checks.append(pa_pd.Check(lambda s: s % 1 == 0, ignore_na=True, name="integer"))
        if rule.get("min") is not None:
            checks.append(pa_pd.Check.ge(rule["min"]))
        if rule.get("allowed"):
            checks.append(pa_pd.Check.isin(rule["allowed"]))
        parser = parse.get(rule["type"])
        if rule["type"] == "timestamp":
            parser = lambda s, fmt=rule["format"]: pd.to_datetime(s, format=fmt, errors="coerce")  # noqa: E731
        columns[name] = pa_pd.Column(
            parsers=pa_pd.Parser(parser) if parser else None, checks=checks, nullable=not rule["required"]
        )
    schema = pa_pd.DataFrameSchema(columns, unique=spec["business_key"], report_duplicates="all")
    frame = read_strings(path, list(spec["columns"]))
    try:
        schema.validate(frame, lazy=True)
        return 0
    except pa_pd.errors.SchemaErrors as e:
        index = e.failure_cases["index"].dropna()
        return int(index.nunique())


def with_gx(path: str, spec: dict) -> int:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    context = gx.get_context(mode="ephemeral")
    batch_definition = (
        context.data_sources.add_pandas("bench")
        .add_dataframe_asset("order_lines")
        .add_batch_definition_whole_dataframe("all")
    )
    suite = context.suites.add(gx.ExpectationSuite(name="contract"))
    patterns = {"int": r"^\s*-?\d+\s*$", "float": r"^\s*-?\d+(\.\d+)?\s*$"}
    frame = read_strings(path, list(spec["columns"]))
    for name, rule in spec["columns"].items():
        if rule["required"]:
            suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=name))
        if rule["type"] in patterns:  # the type check on the cells as written, then the range on the numbers
            suite.add_expectation(gxe.ExpectColumnValuesToMatchRegex(column=name, regex=patterns[rule["type"]]))
            if rule.get("min") is not None:
                frame[f"{name}__number"] = pd.to_numeric(frame[name], errors="coerce")
                suite.add_expectation(
                    gxe.ExpectColumnValuesToBeBetween(column=f"{name}__number", min_value=rule["min"])
                )
        elif rule["type"] == "timestamp":
            suite.add_expectation(
                gxe.ExpectColumnValuesToMatchStrftimeFormat(column=name, strftime_format=rule["format"])
            )
        if rule.get("allowed"):
            suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column=name, value_set=rule["allowed"]))
    suite.add_expectation(gxe.ExpectCompoundColumnsToBeUnique(column_list=spec["business_key"]))
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(suite, result_format={"result_format": "COMPLETE"})
    failed: set[int] = set()
    for outcome in result.results:
        failed.update(outcome.result.get("unexpected_index_list") or [])
    return len(failed)


def main() -> None:
    tool, path, spec_path = sys.argv[1:4]
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    warnings.simplefilter("ignore")
    import_module({"pandera": "pandera.pandas", "gx": "great_expectations"}[tool])  # imports are not timed
    started, cpu = time.perf_counter(), time.process_time()
    failed = {"pandera": with_pandera, "gx": with_gx}[tool](path, spec)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    with open(path, "rb") as f:
        rows = sum(1 for _ in f) - 1
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "rows": rows,
                "failed_rows": failed,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()

"""The prod marts defined once as SQL: DuckDB runs them here (`run`), Athena runs their Trino translation
(`athena`). `inputs` normalises curated datasets and derives the line facts, `fx` the conversion factors,
`queries` holds one query per prod dataset."""

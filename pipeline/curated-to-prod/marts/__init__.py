"""Prod marts: the datasets the AI systems read, built from deduplicated curated partitions.

The marts are SQL (`marts.sql`: one query per prod dataset, run by DuckDB here and by Athena as Trino);
`incremental` plans which partitions to rebuild, `schema` conforms frames to the prod contracts, `store` is
the S3 adapter and `service` wires them together for the handler.
"""

DAILY_DATASETS = (
    "daily_sales",
    "customer_transactions",
    "payment_transactions",
    "country_kpis",
    "copilot_mart",
)
WEEKLY_DATASETS = ("market_series",)
PROD_DATASETS = DAILY_DATASETS + WEEKLY_DATASETS

"""Prod marts: the datasets the AI systems read, built from deduplicated curated partitions.

Pure modules (one per prod dataset, plus `fx`, `incremental`, `curated`, `sales`, `schema`) take and
return dataframes; `store` is the S3 adapter and `service` wires them together for the handler.
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

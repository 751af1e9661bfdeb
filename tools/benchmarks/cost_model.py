"""Estimated monthly AWS bill of the platform for one retailer: pure arithmetic, no AWS calls.

`estimate(workload, functions, platform)` returns one `CostLine` per billed item; `tools/benchmarks/report.py`
fills `functions` (memory from the templates, durations measured by the benchmarks) and `platform` (image
sizes, state machine states, alarms) and renders the table in docs/BENCHMARKS.md.

Unit prices: AWS public on-demand prices for us-east-1, as published on the service pricing pages
(https://aws.amazon.com/<service>/pricing/) and known as of PRICES_AS_OF. They were NOT re-checked when
this file was written: the build machine cannot reach aws.amazon.com. Free tiers, savings plans and
taxes are left out (the estimate is what a paying account at list price is billed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRICES_AS_OF = "2025-06"  # prices as published then; not re-checked online (aws.amazon.com is unreachable here)


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    source: str


PRICES: dict[str, Price] = {
    # Lambda: https://aws.amazon.com/lambda/pricing/ (x86, first 6 billion GB-s tier)
    "lambda_gb_s": Price(0.0000166667, "GB-second (x86)", "aws.amazon.com/lambda/pricing"),
    "lambda_request": Price(0.20 / 1e6, "request ($0.20 per million)", "aws.amazon.com/lambda/pricing"),
    "lambda_tmp_gb_s": Price(0.0000000309, "GB-second of /tmp above 512 MB", "aws.amazon.com/lambda/pricing"),
    # Step Functions standard workflows: https://aws.amazon.com/step-functions/pricing/
    "sfn_transition": Price(
        0.025 / 1000, "state transition ($0.025 per 1,000)", "aws.amazon.com/step-functions/pricing"
    ),
    # API Gateway HTTP APIs: https://aws.amazon.com/api-gateway/pricing/ (first 300 million a month)
    "http_api_request": Price(1.00 / 1e6, "HTTP API request ($1.00 per million)", "aws.amazon.com/api-gateway/pricing"),
    # S3 Standard: https://aws.amazon.com/s3/pricing/
    "s3_gb_month": Price(0.023, "GB-month, S3 Standard (first 50 TB)", "aws.amazon.com/s3/pricing"),
    "s3_put": Price(0.005 / 1000, "PUT/COPY/POST/LIST request ($0.005 per 1,000)", "aws.amazon.com/s3/pricing"),
    "s3_get": Price(0.0004 / 1000, "GET/SELECT request ($0.0004 per 1,000)", "aws.amazon.com/s3/pricing"),
    # ECR: https://aws.amazon.com/ecr/pricing/
    "ecr_gb_month": Price(0.10, "GB-month of image storage", "aws.amazon.com/ecr/pricing"),
    # CloudWatch: https://aws.amazon.com/cloudwatch/pricing/
    "logs_ingest_gb": Price(0.50, "GB of logs ingested (standard class)", "aws.amazon.com/cloudwatch/pricing"),
    "logs_store_gb_month": Price(0.03, "GB-month of logs stored (compressed)", "aws.amazon.com/cloudwatch/pricing"),
    "alarm_month": Price(0.10, "standard-resolution alarm-month", "aws.amazon.com/cloudwatch/pricing"),
    # EventBridge: https://aws.amazon.com/eventbridge/pricing/ (AWS service events on the default bus are free)
    "custom_event": Price(
        1.00 / 1e6, "custom event published ($1.00 per million)", "aws.amazon.com/eventbridge/pricing"
    ),
    # DynamoDB on-demand (price cut of 2024-11-01): https://aws.amazon.com/dynamodb/pricing/on-demand/
    "ddb_write": Price(0.625 / 1e6, "write request unit ($0.625 per million)", "aws.amazon.com/dynamodb/pricing"),
    "ddb_read": Price(0.125 / 1e6, "read request unit ($0.125 per million)", "aws.amazon.com/dynamodb/pricing"),
    # X-Ray: https://aws.amazon.com/xray/pricing/ (tracing is on for every function)
    "xray_trace": Price(5.00 / 1e6, "trace recorded ($5.00 per million)", "aws.amazon.com/xray/pricing"),
}


@dataclass(frozen=True)
class Workload:
    """A retailer with 1 million order lines a month. Every field is an assumption unless marked measured."""

    order_lines: int = 1_000_000
    # orders, payments, customers, products, inventory, prices and FX rows per order line
    other_rows_per_order_line: float = 1.2
    # eight source exports a day (one per canonical dataset), 30 days
    objects_per_month: int = 240
    # measured: 1,000,000 UCI-like order lines are a 102 MB CSV (raw-to-curated benchmark)
    raw_bytes_per_row: float = 102.0
    curated_to_raw: float = 0.3  # Parquet (snappy) vs CSV bytes
    prod_to_curated: float = 0.5  # prod marts are aggregates of curated
    artifacts_gb: float = 1.0  # models, profiles, quality history
    storage_months: int = 12  # the bill in month 12: a year of data kept
    api_requests: int = 100_000  # online requests a month, spread over the routes
    copilot_share: float = 0.3  # share of the API requests that are copilot questions (DynamoDB session I/O)
    batch_runs_per_day: float = 2.0  # per AI system: ProdDatasetUpdated-driven runs plus its schedule
    prod_rebuilds_per_month: int = 30  # the nightly full rebuild of curated-to-prod
    events_per_pipeline_run: int = 5  # ProdDatasetUpdated events emitted per curated-to-prod run
    api_cold_start_share: float = 0.05  # online invocations that pay an init
    log_bytes_per_invocation: int = 4_000  # structured JSON logs
    log_stored_months: float = 12.0  # LogRetentionDays 365 in prod
    log_compression: float = 0.15  # CloudWatch stores logs compressed
    s3_puts_per_object: int = 12  # curated parts, quarantine, report, profile, prod partitions
    s3_gets_per_object: int = 8
    s3_lists_per_object: int = 4
    s3_gets_per_batch_run: int = 800  # an AI batch reads up to two years of daily prod partitions
    s3_puts_per_batch_run: int = 20

    @property
    def rows(self) -> float:
        return self.order_lines * (1 + self.other_rows_per_order_line)


@dataclass
class FunctionUsage:
    """One function's monthly use: invocations and billed seconds, with where each figure comes from."""

    name: str
    memory_mb: int
    invocations: float
    seconds: float  # billed duration of one invocation
    basis: str  # "measured: ..." or "assumed: ..."
    kind: str = "pipeline"  # pipeline | batch (an AI system's batch path) | online (API routes)
    tmp_mb: int = 512
    init_s: float = 0.0  # import + init, billed once per cold start
    cold_starts: float = 0.0


@dataclass
class Platform:
    image_mb: dict[str, float] = field(default_factory=dict)  # function -> image size (MB, 1e6 bytes)
    states_per_execution: int = 3  # state transitions of one pipeline execution
    alarms: int = 0


@dataclass(frozen=True)
class CostLine:
    service: str
    item: str
    quantity: float
    unit: str
    usd: float
    basis: str


def lambda_lines(fn: FunctionUsage) -> list[CostLine]:
    gb = fn.memory_mb / 1024
    billed_s = fn.invocations * fn.seconds + fn.cold_starts * fn.init_s
    gb_s = billed_s * gb
    lines = [
        CostLine("Lambda", f"{fn.name}: compute", gb_s, "GB-s", gb_s * PRICES["lambda_gb_s"].usd, fn.basis),
        CostLine(
            "Lambda",
            f"{fn.name}: requests",
            fn.invocations,
            "requests",
            fn.invocations * PRICES["lambda_request"].usd,
            fn.basis,
        ),
    ]
    if fn.tmp_mb > 512:
        tmp_gb_s = billed_s * (fn.tmp_mb - 512) / 1024
        usd = tmp_gb_s * PRICES["lambda_tmp_gb_s"].usd
        lines.append(CostLine("Lambda", f"{fn.name}: /tmp above 512 MB", tmp_gb_s, "GB-s", usd, fn.basis))
    return lines


def estimate(workload: Workload, functions: list[FunctionUsage], platform: Platform) -> list[CostLine]:
    w, p = workload, PRICES
    lines: list[CostLine] = []
    for fn in functions:
        lines.extend(lambda_lines(fn))

    invocations = sum(fn.invocations for fn in functions)
    executions = w.objects_per_month
    transitions = executions * platform.states_per_execution
    lines.append(
        CostLine(
            "Step Functions",
            "pipeline executions (standard)",
            transitions,
            "transitions",
            transitions * p["sfn_transition"].usd,
            f"{executions} executions x {platform.states_per_execution} transitions (states of the definition)",
        )
    )
    lines.append(
        CostLine(
            "API Gateway",
            "HTTP API requests",
            w.api_requests,
            "requests",
            w.api_requests * p["http_api_request"].usd,
            "assumed request volume",
        )
    )

    raw_gb = w.rows * w.raw_bytes_per_row / 1e9
    stored_gb = (
        w.storage_months * raw_gb * (1 + w.curated_to_raw + w.curated_to_raw * w.prod_to_curated) + w.artifacts_gb
    )
    lines.append(
        CostLine(
            "S3",
            f"storage after {w.storage_months} months (raw + curated + prod + artifacts)",
            stored_gb,
            "GB-month",
            stored_gb * p["s3_gb_month"].usd,
            f"{raw_gb:.3f} GB raw a month (measured bytes per row); Parquet ratios assumed",
        )
    )
    batch_runs = sum(fn.invocations for fn in functions if fn.kind == "batch")
    puts = executions * (w.s3_puts_per_object + w.s3_lists_per_object) + batch_runs * w.s3_puts_per_batch_run
    gets = executions * w.s3_gets_per_object + batch_runs * w.s3_gets_per_batch_run
    lines.append(CostLine("S3", "PUT/LIST requests", puts, "requests", puts * p["s3_put"].usd, "assumed per object"))
    lines.append(CostLine("S3", "GET requests", gets, "requests", gets * p["s3_get"].usd, "assumed per object/run"))

    ecr_gb = sum(platform.image_mb.values()) / 1000
    lines.append(
        CostLine(
            "ECR",
            f"image storage ({len(platform.image_mb)} images, one version each)",
            ecr_gb,
            "GB-month",
            ecr_gb * p["ecr_gb_month"].usd,
            "measured local image sizes (uncompressed: ECR stores compressed layers, so an upper bound)",
        )
    )

    log_gb = (invocations * w.log_bytes_per_invocation) / 1e9
    lines.append(
        CostLine(
            "CloudWatch",
            "logs ingested",
            log_gb,
            "GB",
            log_gb * p["logs_ingest_gb"].usd,
            "assumed bytes per invocation",
        )
    )
    log_stored = log_gb * w.log_stored_months * w.log_compression
    lines.append(
        CostLine(
            "CloudWatch",
            "logs stored",
            log_stored,
            "GB-month",
            log_stored * p["logs_store_gb_month"].usd,
            "retention 365 days, compressed",
        )
    )
    lines.append(
        CostLine(
            "CloudWatch",
            "alarms",
            platform.alarms,
            "alarms",
            platform.alarms * p["alarm_month"].usd,
            "alarms in the templates",
        )
    )
    events = (executions + w.prod_rebuilds_per_month) * w.events_per_pipeline_run + batch_runs
    lines.append(
        CostLine(
            "EventBridge",
            "custom events (ProdDatasetUpdated, AI done)",
            events,
            "events",
            events * p["custom_event"].usd,
            "assumed events per run",
        )
    )
    asks = w.api_requests * w.copilot_share
    lines.append(
        CostLine(
            "DynamoDB",
            "copilot sessions (1 read + 1 write per question)",
            asks,
            "questions",
            asks * (p["ddb_write"].usd + p["ddb_read"].usd),
            "assumed share of API requests",
        )
    )
    traces = invocations + w.api_requests
    lines.append(
        CostLine(
            "X-Ray",
            "traces (every invocation and request: an upper bound)",
            traces,
            "traces",
            traces * p["xray_trace"].usd,
            "tracing on",
        )
    )
    return lines


def total(lines: list[CostLine]) -> float:
    return sum(line.usd for line in lines)


def by_service(lines: list[CostLine]) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in lines:
        out[line.service] = out.get(line.service, 0.0) + line.usd
    return out

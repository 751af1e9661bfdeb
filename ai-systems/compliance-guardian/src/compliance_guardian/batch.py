"""Batch path: audit updated prod partitions for card data; score new payments and write fraud alerts.

Outputs (prod bucket, overwrite-partition semantics):
  fraud_alerts/date=YYYY-MM-DD/part-0.parquet            payments over the threshold, with reason codes
  pci_findings/date=YYYY-MM-DD/part-<dataset>.parquet    card-data findings of one audited dataset
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pandas as pd

from compliance_guardian import audit
from compliance_guardian.config import GuardianSettings
from compliance_guardian.exceptions import BadRequestError, ModelUnavailableError, TrainingDataError
from compliance_guardian.store import ModelStore
from retail_platform import s3io
from retail_platform.storage import PartitionedDataset, S3BlobStore
from retail_platform.storage.blobstore import S3Client

PAYMENTS = "payment_transactions"
ALERTS = "fraud_alerts"
FINDINGS = "pci_findings"
ALERT_COLUMNS = (
    "payment_id",
    "payment_ts",
    "customer_id",
    "order_id",
    "amount",
    "currency",
    "card_bin",
    "card_last4",
    "fraud_probability",
    "threshold",
    "reasons",
    "model_version",
)


def prod_dataset(s3: S3Client, bucket: str, dataset: str) -> PartitionedDataset:
    return PartitionedDataset(S3BlobStore(s3, bucket), dataset)


def partition_days(s3: S3Client, bucket: str, dataset: str) -> list[str]:
    return prod_dataset(s3, bucket, dataset).partitions()


def _has_objects(s3: S3Client, bucket: str, prefix: str) -> bool:
    """One listed key is enough to know a prod dataset exists: the store's listing is lazy, so one page is read."""
    return next(S3BlobStore(s3, bucket).list(prefix), None) is not None


def read_days(s3: S3Client, bucket: str, dataset: str, days: list[str]) -> pd.DataFrame:
    return prod_dataset(s3, bucket, dataset).read(days)


def audit_partitions(s3: S3Client, bucket: str, dataset: str, days: list[str]) -> dict[str, Any]:
    """Audit each named partition of a prod dataset; writes the findings (possibly none) per partition."""
    counts: dict[str, int] = {}
    findings = prod_dataset(s3, bucket, FINDINGS)
    for day in days:
        found = audit.audit_prefix(s3, bucket, f"{dataset}/date={day}/", dataset)
        findings.write(day, found, part=f"part-{dataset}.parquet")
        counts[day] = len(found)
    return {"dataset": dataset, "partitions": len(days), "findings": sum(counts.values()), "by_day": counts}


def ensure_fraud_model(s3: S3Client, settings: Any, cfg: GuardianSettings, newest_day: str) -> tuple[Any, str, dict]:
    """The current fraud model; (re)trained from prod history when missing or stale (the retraining policy)."""
    from compliance_guardian.fraud.model import FraudModel, train

    store = ModelStore(s3, settings.artifacts_bucket, "fraud")
    info: dict[str, Any] = {"trained": False}
    model = None
    try:
        model, _ = store.load(FraudModel.from_files)
        window_end = pd.Timestamp(model.metadata["training_window"]["end"]).date()
        stale = date.fromisoformat(newest_day) - window_end > timedelta(days=cfg.retrain_days)
        info["reason"] = "stale" if stale else "current"
        if not stale:
            return model, model.version, info
    except ModelUnavailableError:
        info["reason"] = "no model yet"
    all_days = partition_days(s3, settings.prod_bucket, PAYMENTS)
    start = (date.fromisoformat(newest_day) - timedelta(days=cfg.training_days)).isoformat()
    history = read_days(s3, settings.prod_bucket, PAYMENTS, [d for d in all_days if start <= d <= newest_day])
    try:
        if history.empty or "is_fraud" not in history.columns:
            raise TrainingDataError("no labelled payments in prod")
        history = history.loc[history["is_fraud"].notna()]
        new_model, report = train(history, objective=cfg.threshold_objective)
    except TrainingDataError as e:
        if model is None:
            raise ModelUnavailableError(f"no fraud model and cannot train one: {e}") from e
        info["training_skipped"] = str(e)
        return model, model.version, info
    store.save(new_model.version, new_model.to_files(), new_model.metadata)
    info.update({"trained": True, "metrics_holdout": report})
    return new_model, new_model.version, info


def score_days(s3: S3Client, settings: Any, cfg: GuardianSettings, model: Any, days: list[str]) -> dict[str, Any]:
    """Score each day's payments; `history_days` of earlier payments feed the velocity features.

    The partitions from the first day's history to the last day are read once and featurised together
    (features only look back in time, so a day's values equal those of scoring it alone).
    """
    from compliance_guardian.fraud.features import build_features, own_features, prepare

    all_days = partition_days(s3, settings.prod_bucket, PAYMENTS)
    start = (date.fromisoformat(min(days)) - timedelta(days=cfg.history_days)).isoformat()
    frame = read_days(s3, settings.prod_bucket, PAYMENTS, [d for d in all_days if start <= d <= max(days)])
    df = features = day_of = None
    if not frame.empty:
        df = prepare(frame)
        features = (
            build_features(df, prepared=True) if model.platform_features else own_features(df, model.feature_names)
        )
        day_of = df["payment_ts"].dt.strftime("%Y-%m-%d").to_numpy()
    written: dict[str, dict[str, int]] = {}
    for day in days:
        alerts = pd.DataFrame(columns=list(ALERT_COLUMNS))
        today = (day_of == day) if day_of is not None else None
        scored_rows = int(today.sum()) if today is not None else 0
        if scored_rows:
            result = model.score(features.loc[today], with_reasons=False)
            hit = result["is_alert"].to_numpy()
            if hit.any():
                rows = df.loc[today].loc[hit]
                alerts = pd.DataFrame({c: rows.get(c) for c in ALERT_COLUMNS[:8]})
                alerts["fraud_probability"] = result.loc[hit, "fraud_probability"].to_numpy()
                alerts["threshold"] = model.threshold
                alerts["reasons"] = [json.dumps(r) for r in model.reasons(features.loc[today].loc[hit])]
                alerts["model_version"] = model.version
        prod_dataset(s3, settings.prod_bucket, ALERTS).write(day, alerts.reset_index(drop=True))
        written[day] = {"scored": scored_rows, "alerts": len(alerts)}
    return written


def publish(settings: Any, dataset: str, days: list[str], events_client: Any) -> int:
    """Announce written partitions (best effort: a failure is logged and counted, see events.announce)."""
    from retail_platform import events

    return events.announce(events_client, settings.event_bus_name, dataset, settings.prod_bucket, days)


def run_prod_update(
    s3: S3Client, settings: Any, cfg: GuardianSettings, dataset: str, days: list[str], events_client: Any = None
) -> dict[str, Any]:
    """Everything one ProdDatasetUpdated event triggers."""
    result: dict[str, Any] = {
        "dataset": dataset,
        "partitions": days,
        "audit": audit_partitions(s3, settings.prod_bucket, dataset, days),
    }
    emitted = publish(settings, FINDINGS, days, events_client)
    if dataset != PAYMENTS and not _has_objects(s3, settings.prod_bucket, f"{PAYMENTS}/"):
        result["skipped"] = [f"no {PAYMENTS} in prod (no payments export): fraud scoring skipped; card-data audit ran"]
    if dataset == PAYMENTS and days:
        try:
            model, version, info = ensure_fraud_model(s3, settings, cfg, max(days))
        except ModelUnavailableError as e:
            result["fraud"] = {"status": "skipped", "reason": str(e)}
        else:
            info.setdefault("threshold", model.metadata.get("threshold_choice"))  # why this threshold (the report)
            info.setdefault("metrics_holdout", model.metadata.get("metrics_holdout"))
            try:
                scored = score_days(s3, settings, cfg, model, days)
            except BadRequestError as e:  # a model of own feature columns that payment_transactions lacks
                result["fraud"] = {"status": "skipped", "reason": str(e), "model_version": version}
                result["events_emitted"] = emitted
                return result
            result["fraud"] = {"status": "scored", "model_version": version, "model": info, "days": scored}
            emitted += publish(settings, ALERTS, days, events_client)
    result["events_emitted"] = emitted
    return result


def audit_curated(s3: S3Client, settings: Any, cfg: GuardianSettings) -> dict[str, Any]:
    """Scheduled audit of the newest `audit_curated_days` partitions of every curated dataset (no quarantine)."""
    datasets: dict[str, list[str]] = {}
    for key in s3io.list_keys(s3, settings.curated_bucket, ""):
        parts = key.split("/")
        if key.startswith("_") or len(parts) < 3 or not parts[1].startswith("date="):
            continue
        datasets.setdefault(parts[0], []).append(parts[1][5:])
    totals: dict[str, int] = {}
    frames = []
    for dataset, days in sorted(datasets.items()):
        for day in sorted(set(days))[-cfg.audit_curated_days :]:
            found = audit.audit_prefix(s3, settings.curated_bucket, f"{dataset}/date={day}/", dataset)
            frames.append(found)
            totals[dataset] = totals.get(dataset, 0) + len(found)
    findings = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(audit.FINDING_COLUMNS))
    today = date.today().isoformat()
    prod_dataset(s3, settings.prod_bucket, FINDINGS).write(today, findings, part="part-curated.parquet")
    return {"curated_datasets": len(datasets), "findings": len(findings), "by_dataset": totals}

"""Batch path: audit updated prod partitions for card data; score new payments and write fraud alerts.

Inputs are read through `PartitionedDataset` whatever their grain: an event names day labels (YYYY-MM-DD)
or month labels (YYYY-MM), and every object whose partition overlaps them is read.

Outputs (prod bucket, overwrite-partition semantics):
  fraud_alerts/date=YYYY-MM-DD/part-0.parquet      payments of one day over the threshold, with reason codes
  pci_findings/<date=YYYY-MM-DD | month=YYYY-MM>/part-<dataset>.parquet
                                                   card-data findings of one audited partition of a dataset,
                                                   at that partition's own grain (older day files of a
                                                   re-audited month are removed)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from compliance_guardian import audit
from compliance_guardian.config import GuardianSettings
from compliance_guardian.exceptions import BadRequestError, ModelUnavailableError, TrainingDataError
from compliance_guardian.store import Buckets, ModelStore
from retail_platform.exceptions import BadEventError
from retail_platform.storage import BlobStore, PartitionedDataset, overlaps, period_of
from retail_platform.storage.blobstore import S3Client
from retail_platform.storage.partitions import grain_of, overlapping, span
from retail_platform.storage.partitions import label_of as partition_label

PAYMENTS = "payment_transactions"
ALERTS = "fraud_alerts"
FINDINGS = "pci_findings"
AUDIT_BATCH = 32  # objects held in memory at once by an audit
UNPARTITIONED = ""  # the label of findings in objects outside any partition (written under the audit's day)
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


def label_of(period: str) -> str:
    """A day (YYYY-MM-DD) or month (YYYY-MM) label as given, a timestamp cut to its day; an event naming anything
    else ('2024-13', '2023-02-29', 'yesterday') is refused with a BadEventError."""
    try:
        return partition_label(str(period))
    except ValueError as e:
        raise BadEventError(f"not a partition label: {period!r} (expected YYYY-MM-DD or YYYY-MM)") from e


def within(inner: str, outer: str) -> bool:
    """Whether every day of the label `inner` lies in the label `outer`."""
    (i0, i1), (o0, o1) = span(inner), span(outer)
    return o0 <= i0 and i1 <= o1


def _day_rows(frame: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    """Rows of payments whose day lies in [first, last] (month objects hold more than a window needs)."""
    if frame.empty:
        return frame
    days = pd.to_datetime(frame["payment_ts"], utc=True).dt.date
    return frame.loc[(days >= first) & (days <= last)].reset_index(drop=True)


# ------------------------------------------------------------------ card-data audit


def audit_objects(dataset: PartitionedDataset, keys: list[str], name: str) -> dict[str, pd.DataFrame]:
    """Findings of each object, gathered by the object's partition label; objects read `AUDIT_BATCH` at a time."""
    found: dict[str, list[pd.DataFrame]] = {}
    for start in range(0, len(keys), AUDIT_BATCH):
        chunk = keys[start : start + AUDIT_BATCH]
        for key, table in zip(chunk, dataset.read_tables(chunk), strict=True):
            label = period_of(key) or UNPARTITIONED
            found.setdefault(label, []).append(audit.audit_table(table, name, label, key))
    return {label: audit.concat(frames) for label, frames in found.items()}


def write_findings(store: BlobStore, dataset: str, by_label: dict[str, pd.DataFrame]) -> None:
    """Replace the dataset's findings of each audited partition (a month's replaces its older day files).

    The findings are listed once for all the partitions (a listing per partition was most of an audit's time
    on S3); an older file of this dataset inside a written partition is stale unless this audit wrote it."""
    part = f"part-{dataset}.parquet"
    written: dict[str, str] = {}
    for label, found in by_label.items():
        label = label or date.today().isoformat()
        written[PartitionedDataset(store, FINDINGS, grain=grain_of(label)).write(label, found, part=part)] = label
    labels = sorted(set(written.values()))
    stale = [
        k
        for k in PartitionedDataset(store, FINDINGS).keys(labels)
        if k not in written and k.endswith(f"/{part}") and any(within(period_of(k) or label, label) for label in labels)
    ]
    store.delete(stale)


def audit_partitions(store: BlobStore, dataset: str, periods: Iterable[str]) -> dict[str, Any]:
    """Audit the named partitions (day or month labels) of a prod dataset; writes the findings (possibly none)
    per audited partition. A named partition without objects gets empty findings (its old ones are replaced)."""
    labels = [label_of(p) for p in periods]
    source = PartitionedDataset(store, dataset)
    by_label = audit_objects(source, source.keys(labels), dataset)
    for label in labels:
        if not any(other and overlaps(other, label) for other in by_label):
            by_label[label] = audit.empty_findings()
    write_findings(store, dataset, by_label)
    counts = {label: len(found) for label, found in sorted(by_label.items())}
    return {"dataset": dataset, "partitions": len(counts), "findings": sum(counts.values()), "by_partition": counts}


class PaymentHistory:
    """payment_transactions for one event, each object read at most once: the newest day, the training window
    and the scoring window overlap, and each used to read the dataset again."""

    def __init__(self, store: BlobStore) -> None:
        self.dataset = PartitionedDataset(store, PAYMENTS)
        self._listing: dict[str | None, list[str]] | None = None
        self._frames: dict[str, pd.DataFrame] = {}

    def _read(self, labels: list[str]) -> pd.DataFrame:
        """Rows of the objects overlapping `labels` (as `PartitionedDataset.read`), from the cache when read."""
        if self._listing is None:
            self._listing = self.dataset.listing()
        keys = overlapping(self._listing, labels)
        missing = [k for k in keys if k not in self._frames]
        for key, table in zip(missing, self.dataset.read_tables(missing), strict=True):
            self._frames[key] = table.to_pandas()
        kept = [self._frames[k] for k in keys if not self._frames[k].empty]
        return pd.concat(kept, ignore_index=True) if kept else pd.DataFrame()

    def newest_day(self, periods: list[str]) -> date | None:
        """The last day with payments in the named partitions (a month label's end may lie past its data)."""
        frame = self._read(periods)
        if frame.empty:
            return None
        return pd.to_datetime(frame["payment_ts"], utc=True).max().date()

    def between(self, first: date, last: date) -> pd.DataFrame:
        """Payments of the days [first, last], from every partition (day or month) overlapping them."""
        if self._listing is None:
            self._listing = self.dataset.listing()
        labels = [p for p in self._listing if p is not None and span(p)[0] <= last and first <= span(p)[1]]
        return _day_rows(self._read(sorted(labels)), first, last)


def newest_payment_day(store: BlobStore, periods: list[str]) -> date | None:
    """The last day with payments in the named partitions (a month label's end may lie past its data)."""
    return PaymentHistory(store).newest_day(periods)


def payments_between(store: BlobStore, first: date, last: date) -> pd.DataFrame:
    """Payments of the days [first, last], read from every partition (day or month) overlapping them."""
    return PaymentHistory(store).between(first, last)


def ensure_fraud_model(
    buckets: Buckets, cfg: GuardianSettings, newest_day: date, history: PaymentHistory | None = None
) -> tuple[Any, str, dict]:
    """The current fraud model; (re)trained from prod history when missing or stale (the retraining policy)."""
    from compliance_guardian.fraud.model import FraudModel, train

    store = ModelStore(buckets.artifacts, buckets.artifacts.bucket, "fraud")
    info: dict[str, Any] = {"trained": False}
    model = None
    try:
        model, _ = store.load(FraudModel.from_files)
        window_end = pd.Timestamp(model.metadata["training_window"]["end"]).date()
        stale = newest_day - window_end > timedelta(days=cfg.retrain_days)
        info["reason"] = "stale" if stale else "current"
        if not stale:
            return model, model.version, info
    except ModelUnavailableError:
        info["reason"] = "no model yet"
    history = history or PaymentHistory(buckets.prod)
    labelled = history.between(newest_day - timedelta(days=cfg.training_days), newest_day)
    try:
        if labelled.empty or "is_fraud" not in labelled.columns:
            raise TrainingDataError("no labelled payments in prod")
        labelled = labelled.loc[labelled["is_fraud"].notna()]
        new_model, report = train(labelled, objective=cfg.threshold_objective)
    except TrainingDataError as e:
        if model is None:
            raise ModelUnavailableError(f"no fraud model and cannot train one: {e}") from e
        info["training_skipped"] = str(e)
        return model, model.version, info
    store.save(new_model.version, new_model.to_files(), new_model.metadata)
    info.update({"trained": True, "metrics_holdout": report})
    return new_model, new_model.version, info


def score_days(
    buckets: Buckets, cfg: GuardianSettings, model: Any, periods: list[str], history: PaymentHistory | None = None
) -> dict[str, Any]:
    """Score the payments of the named days, or of every day with payments in a named month; `history_days`
    of earlier payments feed the velocity features. Alerts are written per day.

    The payments from the first day's history to the last day are read once, featurised together (features
    only look back in time, so a day's values equal those of scoring it alone) and scored in one call (a
    row's score and reasons do not depend on the other rows); the days' alert files are written concurrently.
    """
    from compliance_guardian.fraud.features import build_features, own_features, prepare

    labels = [label_of(p) for p in periods]
    first, last = min(span(p)[0] for p in labels), max(span(p)[1] for p in labels)
    frame = (history or PaymentHistory(buckets.prod)).between(first - timedelta(days=cfg.history_days), last)
    day_of, df, features = np.array([], dtype=object), None, None
    if not frame.empty:
        df = prepare(frame)
        features = (
            build_features(df, prepared=True) if model.platform_features else own_features(df, model.feature_names)
        )
        day_of = _days(df["payment_ts"])
    days = sorted({p for p in labels if grain_of(p) == "day"} | {d for d in set(day_of) if _named(d, labels)})
    none = pd.DataFrame(columns=list(ALERT_COLUMNS))  # written (read only) for every day without alerts
    by_day = dict.fromkeys(days, none)
    scored = pd.Series(day_of).isin(days).to_numpy()
    if df is not None and features is not None and scored.any():
        by_day.update(_alerts(model, df.loc[scored], features.loc[scored]))
    PartitionedDataset(buckets.prod, ALERTS).write_many(by_day)
    counts = pd.Series(day_of[scored]).value_counts()
    return {day: {"scored": int(counts.get(day, 0)), "alerts": len(by_day[day])} for day in days}


def _alerts(model: Any, rows: pd.DataFrame, features: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The alert rows (ALERT_COLUMNS) of scored payments, by payment day; days without alerts are absent."""
    result = model.score(features, with_reasons=False)
    hit = result["is_alert"].to_numpy()
    if not hit.any():
        return {}
    flagged = rows.loc[hit]
    alerts = pd.DataFrame({c: flagged.get(c) for c in ALERT_COLUMNS[:8]})
    alerts["fraud_probability"] = result.loc[hit, "fraud_probability"].to_numpy()
    alerts["threshold"] = model.threshold
    alerts["reasons"] = [json.dumps(r) for r in model.reasons(features.loc[hit])]
    alerts["model_version"] = model.version
    day = _days(flagged["payment_ts"])
    return {d: part.reset_index(drop=True) for d, part in alerts.groupby(day, sort=True)}


def _days(timestamps: pd.Series) -> np.ndarray:
    """YYYY-MM-DD of UTC timestamps (numpy's day cast: the same labels as strftime, without a loop per row)."""
    return timestamps.dt.tz_convert("UTC").to_numpy("datetime64[ns]").astype("datetime64[D]").astype(str).astype(object)


def _named(day: str, labels: list[str]) -> bool:
    """Whether a day lies in one of the event's month labels (a day label names only itself)."""
    return any(grain_of(p) == "month" and within(day, p) for p in labels)


def publish(settings: Any, dataset: str, periods: list[str], events_client: Any) -> int:
    """Announce written partitions (best effort: a failure is logged and counted, see events.announce)."""
    from retail_platform import events

    return events.announce(events_client, settings.event_bus_name, dataset, settings.prod_bucket, periods)


def run_prod_update(
    s3: S3Client | Buckets,
    settings: Any,
    cfg: GuardianSettings,
    dataset: str,
    periods: list[str],
    events_client: Any = None,
) -> dict[str, Any]:
    """Everything one ProdDatasetUpdated event triggers (`periods`: its day or month labels)."""
    buckets = Buckets.of(s3, settings)
    periods = [label_of(p) for p in periods]  # checked before anything is read
    audited = audit_partitions(buckets.prod, dataset, periods)
    result: dict[str, Any] = {"dataset": dataset, "partitions": periods, "audit": audited}
    emitted = publish(settings, FINDINGS, sorted(audited["by_partition"]), events_client)
    if dataset != PAYMENTS and next(buckets.prod.list(f"{PAYMENTS}/"), None) is None:  # one listed key is enough
        result["skipped"] = [f"no {PAYMENTS} in prod (no payments export): fraud scoring skipped; card-data audit ran"]
    history = PaymentHistory(buckets.prod)
    newest = history.newest_day(periods) if dataset == PAYMENTS and periods else None
    if dataset == PAYMENTS and periods and newest is None:
        result["fraud"] = {"status": "skipped", "reason": f"no payments in {PAYMENTS} partitions {periods}"}
    if newest is not None:
        try:
            model, version, info = ensure_fraud_model(buckets, cfg, newest, history)
        except ModelUnavailableError as e:
            result["fraud"] = {"status": "skipped", "reason": str(e)}
        else:
            info.setdefault("threshold", model.metadata.get("threshold_choice"))  # why this threshold (the report)
            info.setdefault("metrics_holdout", model.metadata.get("metrics_holdout"))
            try:
                scored = score_days(buckets, cfg, model, periods, history)
            except BadRequestError as e:  # a model of own feature columns that payment_transactions lacks
                result["fraud"] = {"status": "skipped", "reason": str(e), "model_version": version}
                result["events_emitted"] = emitted
                return result
            result["fraud"] = {"status": "scored", "model_version": version, "model": info, "days": scored}
            emitted += publish(settings, ALERTS, sorted(scored), events_client)
    result["events_emitted"] = emitted
    return result


def audit_curated(s3: S3Client | Buckets, settings: Any, cfg: GuardianSettings) -> dict[str, Any]:
    """Scheduled audit of every curated dataset's partitions within `audit_curated_days` of its newest day
    (day or month partitions alike; no quarantine). Findings go to today's `part-curated.parquet`."""
    buckets = Buckets.of(s3, settings)
    listing: dict[str, dict[str, list[str]]] = {}
    for key in buckets.curated.list(""):
        label = period_of(key)
        if key.startswith("_") or label is None or not key.endswith(".parquet"):
            continue
        listing.setdefault(key.split("/", 1)[0], {}).setdefault(label, []).append(key)
    totals: dict[str, int] = {}
    frames = []
    for dataset, by_label in sorted(listing.items()):
        newest = max(span(label)[1] for label in by_label)
        first = newest - timedelta(days=cfg.audit_curated_days - 1)
        keys = sorted(k for label, ks in by_label.items() if span(label)[1] >= first for k in ks)
        found = audit_objects(PartitionedDataset(buckets.curated, dataset), keys, dataset)
        frames.extend(found.values())
        totals[dataset] = sum(len(f) for f in found.values())
    findings = audit.concat(frames)
    PartitionedDataset(buckets.prod, FINDINGS).write(date.today(), findings, part="part-curated.parquet")
    return {"curated_datasets": len(listing), "findings": len(findings), "by_dataset": totals}

"""Ranking and threshold metrics in numpy (no scikit-learn in the image)."""

from __future__ import annotations

import numpy as np


def average_precision(y: np.ndarray, score: np.ndarray) -> float:
    """PR-AUC as average precision (step-wise, ties broken by order of descending score)."""
    y = np.asarray(y, dtype=float)
    if y.sum() == 0:
        return float("nan")
    order = np.argsort(-np.asarray(score, dtype=float), kind="stable")
    hits = y[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / hits.sum())


def recall_at_fpr(y: np.ndarray, score: np.ndarray, fpr: float = 0.01) -> float:
    """Recall at the threshold that lets through at most `fpr` of the negatives."""
    y = np.asarray(y, dtype=int)
    score = np.asarray(score, dtype=float)
    negatives = np.sort(score[y == 0])[::-1]
    if y.sum() == 0 or len(negatives) == 0:
        return float("nan")
    allowed = int(np.floor(fpr * len(negatives)))
    threshold = negatives[allowed] if allowed < len(negatives) else -np.inf
    return float((score[y == 1] > threshold).mean())


def precision_recall_at(y: np.ndarray, score: np.ndarray, threshold: float) -> tuple[float, float, int]:
    """(precision, recall, alerts) of `score >= threshold`."""
    y = np.asarray(y, dtype=int)
    alert = np.asarray(score, dtype=float) >= threshold
    n = int(alert.sum())
    precision = float(y[alert].mean()) if n else float("nan")
    recall = float(alert[y == 1].mean()) if y.sum() else float("nan")
    return precision, recall, n


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype=float) - np.asarray(y, dtype=float)) ** 2))


def summary(y: np.ndarray, score: np.ndarray, threshold: float) -> dict[str, float]:
    precision, recall, alerts = precision_recall_at(y, score, threshold)
    return {
        "pr_auc": round(average_precision(y, score), 4),
        "recall_at_1pct_fpr": round(recall_at_fpr(y, score, 0.01), 4),
        "precision_at_threshold": round(precision, 4),
        "recall_at_threshold": round(recall, 4),
        "alerts": alerts,
        "rows": len(y),
        "positives": int(np.sum(y)),
    }

"""Keyword baseline: the first class whose keywords appear in the text wins; otherwise benign."""

from __future__ import annotations

import re

from compliance_guardian.textclf import LABELS

KEYWORDS = {
    "shares_payment_data": ("card number", "cvv", "expiry", "exp ", "security code", "visa", "mastercard"),
    "phishing_social_engineering": ("verify", "password", "suspended", "click the link", "login", "one-time code"),
    "prohibited_item": ("counterfeit", "fake", "replica", "stolen", "explosive", "without prescription", "ivory"),
}
_PATTERNS = {label: re.compile("|".join(re.escape(w) for w in words), re.I) for label, words in KEYWORDS.items()}


def classify(text: str) -> int:
    for label, pattern in _PATTERNS.items():
        if pattern.search(text):
            return LABELS.index(label)
    return LABELS.index("benign")


def per_class_metrics(y_true: list[int], y_pred: list[int]) -> dict[str, dict[str, float]]:
    """Precision, recall and support per class."""
    out = {}
    for k, label in enumerate(LABELS):
        tp = sum(1 for t, p in zip(y_true, y_pred, strict=True) if t == k and p == k)
        predicted = sum(1 for p in y_pred if p == k)
        actual = sum(1 for t in y_true if t == k)
        out[label] = {
            "precision": round(tp / predicted, 4) if predicted else 0.0,
            "recall": round(tp / actual, 4) if actual else 0.0,
            "support": actual,
        }
    return out

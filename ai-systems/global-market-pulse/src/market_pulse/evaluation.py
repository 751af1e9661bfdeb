"""Scoring detections against injected truth (used by the tests and the benchmark)."""

from __future__ import annotations

import pandas as pd


def match(detected: list[tuple[str, str]], truth: list[tuple[str, str]], tolerance_days: int) -> dict[str, float]:
    """Precision and recall of (country, date) detections against the truth, within a tolerance in days."""
    truth_days = [(c, pd.Timestamp(d)) for c, d in truth]
    found_days = [(c, pd.Timestamp(d)) for c, d in detected]
    hit_truth = {
        i
        for i, (c, d) in enumerate(truth_days)
        if any(fc == c and abs((fd - d).days) <= tolerance_days for fc, fd in found_days)
    }
    true_detections = sum(
        1 for fc, fd in found_days if any(c == fc and abs((fd - d).days) <= tolerance_days for c, d in truth_days)
    )
    return {
        "truth": len(truth_days),
        "detected": len(found_days),
        "precision": true_detections / len(found_days) if found_days else 1.0,
        "recall": len(hit_truth) / len(truth_days) if truth_days else 1.0,
    }


def match_pairs(detected: list[tuple[str, str]], truth: list[tuple[str, str]]) -> dict[str, float]:
    """Precision and recall of directed (leader, follower) relations."""
    found, real = set(detected), set(truth)
    return {
        "truth": len(real),
        "detected": len(found),
        "precision": len(found & real) / len(found) if found else 1.0,
        "recall": len(found & real) / len(real) if real else 1.0,
    }

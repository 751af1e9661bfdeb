"""Transaction fraud detection: features, XGBoost model, rules baseline, metrics."""

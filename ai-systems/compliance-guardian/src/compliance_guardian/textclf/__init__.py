"""Compliance-risk text classifier: generated labelled corpus, keyword baseline, small BERT (torch)."""

LABELS = ("benign", "shares_payment_data", "phishing_social_engineering", "prohibited_item")

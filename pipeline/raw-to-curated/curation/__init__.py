"""raw-to-curated domain: read a raw export through its source contract, validate, normalise, dedupe.

Knows nothing of Lambda; the handler in lambda_function.py wires it to S3 and events.
"""

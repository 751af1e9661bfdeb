"""Seeded generator of realistic raw shop exports with injected, recorded quality defects.

    from retail_platform.sampledata import generate
    manifest = generate(Path("/tmp/raw"), seed=7)

or `python -m retail_platform.sampledata --out /tmp/raw [--small]`. Files under out_dir are laid out as raw
object keys (`sample/<dataset>/...`) and match the source contracts `contracts/sources/sample-*.yaml`;
`out_dir/_manifest/` holds the ground truth (defects.jsonl, summary.json, fraud.jsonl, pan_lookalikes.jsonl).
"""

from __future__ import annotations

from .generator import DATASETS, generate
from .manifest import MANIFEST_DIR, Manifest
from .params import DEFAULT_COUNTRIES, SMALL_PROFILE, Params

__all__ = ["DATASETS", "DEFAULT_COUNTRIES", "MANIFEST_DIR", "SMALL_PROFILE", "Manifest", "Params", "generate"]

"""Machine-readable figures of one benchmark run, written beside its markdown (docs/benchmarks/<name>.json).

`tools/benchmarks/report.py` composes docs/BENCHMARKS.md from these files, so it never parses markdown.
Every benchmark script records what it measured and writes the file next to its .md:

    FIG = Figures("retail-copilot")
    FIG.route("POST /copilot/ask", p50_ms=315.9, p99_ms=609.4, n=159)
    FIG.quality("accuracy_uci", "UCI Online Retail sample", "exact answers", 1.0, "keyword baseline", 0.006)
    FIG.set(import_init_s=18.2, peak_rss_mb=444, image_tag="retailcopilotfunction:python3.11-v1", image_mb=530)
    FIG.write(OUT)   # OUT = docs/benchmarks/retail-copilot.md -> docs/benchmarks/retail-copilot.json

Keys the report reads (all optional): import_init_s, peak_rss_mb, memory_limit_mb, batch_s, image_tag,
image_mb, routes{name: {p50_ms, p99_ms, n}}, quality[{id, data, metric, ours, baseline, baseline_value}].
A figure that was not measured is left out, never guessed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any


class Figures:
    def __init__(self, system: str, command: str | None = None) -> None:
        self.data: dict[str, Any] = {
            "system": system,
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": command or "python " + " ".join(sys.argv),
            "cpus": os.cpu_count(),
            "load_average": round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else None,
            "routes": {},
            "quality": [],
        }

    def set(self, **figures: Any) -> None:
        self.data.update({k: _plain(v) for k, v in figures.items() if v is not None})

    def route(self, name: str, p50_ms: float, p99_ms: float, n: int | None = None) -> None:
        self.data["routes"][name] = {"p50_ms": round(float(p50_ms), 2), "p99_ms": round(float(p99_ms), 2), "n": n}

    def quality(
        self,
        key: str,
        data: str,
        metric: str,
        ours: float,
        baseline: str | None = None,
        baseline_value: float | None = None,
    ) -> None:
        """One quality figure; `key` is what the report's goals match (e.g. "pan_recall_generated")."""
        row = {"id": key, "data": data, "metric": metric, "ours": _plain(ours)}
        if baseline is not None:
            row.update(baseline=baseline, baseline_value=_plain(baseline_value))
        self.data["quality"] = [q for q in self.data["quality"] if q["id"] != key] + [row]

    def write(self, markdown_path: Path) -> Path:
        target = Path(markdown_path).with_suffix(".json")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(self.data, indent=2) + "\n")
        print(f"wrote {target}")
        return target


def _plain(value: Any) -> Any:
    """numpy scalars and the like as plain JSON numbers."""
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float):
        return round(value, 6)
    return value

"""The ground truth written next to the raw files: where the defects are, what was generated."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST_DIR = "_manifest"  # under out_dir; not a raw object key (do not upload it to the raw bucket)


@dataclass(frozen=True, repr=False)
class Manifest:
    """What generate() wrote: raw keys with data-row counts, every injected defect, and a summary."""

    out_dir: Path
    files: dict[str, int]  # raw object key -> number of data rows
    defects: list[dict[str, object]]
    summary: dict[str, object]
    extras: dict[str, list[dict[str, object]]] = field(default_factory=dict)

    def __repr__(self) -> str:  # short: the full lists are on disk
        fraud = self.summary.get("fraud", {})
        return (
            f"Manifest(out_dir={str(self.out_dir)!r}, files={len(self.files)}, "
            f"rows={sum(self.files.values())}, defects={len(self.defects)}, "
            f"leaked_pans={self.summary.get('leaked_pans')}, "
            f"fraud_rate={fraud.get('rate') if isinstance(fraud, dict) else None})"
        )

    def defects_in(self, key: str) -> list[dict[str, object]]:
        return [x for x in self.defects if x["file"] == key]

    def keys(self, dataset: str) -> list[str]:
        return [k for k in self.files if k.startswith(f"sample/{dataset}/")]

    def count_by_kind(self) -> dict[str, int]:
        return dict(sorted(Counter(str(x["kind"]) for x in self.defects).items()))

    def write(self) -> None:
        """_manifest/defects.jsonl, summary.json and one JSON Lines file per extra ground truth."""
        folder = self.out_dir / MANIFEST_DIR
        folder.mkdir(parents=True, exist_ok=True)
        _write_jsonl(folder / "defects.jsonl", self.defects)
        for name, records in self.extras.items():
            _write_jsonl(folder / f"{name}.jsonl", records)
        text = json.dumps(self.summary, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
        (folder / "summary.json").write_text(text, encoding="utf-8")

    @classmethod
    def read(cls, out_dir: Path) -> Manifest:
        """Load a manifest written by write()."""
        folder = Path(out_dir) / MANIFEST_DIR
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        defects = _read_jsonl(folder / "defects.jsonl")
        extras = {p.stem: _read_jsonl(p) for p in sorted(folder.glob("*.jsonl")) if p.stem != "defects"}
        return cls(Path(out_dir), dict(summary["files"]), defects, summary, extras)


def _write_jsonl(path: Path, records: list[dict[str, object]]) -> None:
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]

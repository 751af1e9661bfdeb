"""Serving the text model without transformers: a TorchScript module plus the tokenizer's own `tokenizer.json`.

`import transformers` (and its BERT classes) costs several seconds of Lambda init; this module needs only
torch, numpy and `tokenizers`. The files are written at training time by `model.TextClassifier.save`; models
saved before that (no TorchScript file) are served by `model.TextClassifier` (see `serving._loader`).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch
from tokenizers import Tokenizer

from compliance_guardian.textclf import LABELS

SERVING_FORMAT = "torchscript"
SCRIPT_FILE = "model.torchscript.pt"
TOKENIZER_FILE = "tokenizer.json"
PAD_TOKEN = "[PAD]"  # noqa: S105 - a vocabulary token, not a secret


class BaseTextClassifier:
    """What serving needs: `probabilities` per text; labels, version and the classify response around it."""

    metadata: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", "unversioned"))

    def probabilities(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def predict(self, texts: list[str]) -> list[int]:
        return [int(i) for i in self.probabilities(texts).argmax(axis=1)]

    def classify(self, texts: list[str]) -> list[dict[str, Any]]:
        out = []
        for row in self.probabilities(texts):
            best = int(row.argmax())
            out.append(
                {
                    "label": LABELS[best],
                    "confidence": round(float(row[best]), 4),
                    "scores": {label: round(float(p), 4) for label, p in zip(LABELS, row, strict=True)},
                }
            )
        return out


def serving_tokenizer(tokenizer_json: str, max_length: int) -> Tokenizer:
    """The fast tokenizer from its JSON, truncating and padding every text to exactly `max_length` tokens."""
    tok = Tokenizer.from_str(tokenizer_json)
    tok.enable_truncation(max_length=max_length)
    tok.enable_padding(length=max_length, pad_id=tok.token_to_id(PAD_TOKEN), pad_token=PAD_TOKEN)
    return tok


def jit_load(path: Path) -> Any:
    with warnings.catch_warnings():  # torch 2.13 marks torch.jit deprecated; it still loads and runs
        warnings.simplefilter("ignore", DeprecationWarning)
        return torch.jit.load(str(path), map_location="cpu").eval()


class ScriptedTextClassifier(BaseTextClassifier):
    """A traced `(input_ids, attention_mask) -> logits` module; inputs always `max_length` long (the traced shape)."""

    def __init__(self, tokenizer: Tokenizer, module: Any, metadata: dict[str, Any], max_length: int) -> None:
        self.tokenizer = tokenizer
        self.module = module
        self.metadata = metadata
        self.max_length = max_length

    def logits(self, texts: list[str]) -> torch.Tensor:
        encodings = self.tokenizer.encode_batch(list(texts))
        ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
        mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.long)
        with torch.no_grad():
            return self.module(ids, mask)

    def probabilities(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        return torch.softmax(self.logits(texts), dim=-1).numpy()

    @classmethod
    def load(cls, directory: Path) -> ScriptedTextClassifier:
        metadata = json.loads((directory / "metadata.json").read_text())
        max_length = int(metadata["serving"]["max_length"])
        tokenizer = serving_tokenizer((directory / TOKENIZER_FILE).read_text(), max_length)
        return cls(tokenizer, jit_load(directory / SCRIPT_FILE), metadata, max_length)


def has_scripted_files(directory: Path) -> bool:
    """True when a directory holds a model saved with its TorchScript serving files."""
    if not ((directory / SCRIPT_FILE).is_file() and (directory / TOKENIZER_FILE).is_file()):
        return False
    metadata = json.loads((directory / "metadata.json").read_text())
    return (metadata.get("serving") or {}).get("format") == SERVING_FORMAT

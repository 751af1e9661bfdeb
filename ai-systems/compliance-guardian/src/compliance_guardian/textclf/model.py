"""A small BERT (2 layers) with a WordPiece tokenizer built from the generated corpus; torch + transformers.

Nothing is downloaded: the tokenizer is trained with `tokenizers`, the network is built from a
`BertConfig` and trained here, and both are saved with `save_pretrained` and loaded from an explicit
directory (`local_files_only=True`). This module is for training; `save` also writes the serving form
(a TorchScript trace of the network next to the tokenizer's `tokenizer.json`), which `runtime` loads without
importing transformers.
"""

from __future__ import annotations

import json
import os
import platform
import random
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("USE_TF", "0")  # transformers would import TensorFlow when it is installed
os.environ.setdefault("USE_FLAX", "0")

import numpy as np
import tokenizers
import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

from compliance_guardian.textclf import LABELS, corpus, keywords
from compliance_guardian.textclf.runtime import (
    SCRIPT_FILE,
    SERVING_FORMAT,
    TOKENIZER_FILE,
    BaseTextClassifier,
    serving_tokenizer,
)

SEED = 7
MAX_LEN = 64
CONFIG = {
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 128,
    "max_position_embeddings": MAX_LEN,
}


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def build_tokenizer(texts: list[str], vocab_size: int = 2000) -> PreTrainedTokenizerFast:
    """A lower-casing WordPiece tokenizer trained on the texts (digits split one by one)."""
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))  # noqa: S106 - a vocabulary token, not a secret
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.BertPreTokenizer(), pre_tokenizers.Digits(individual_digits=True)]
    )
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=special))
    from tokenizers.processors import TemplateProcessing

    tok.post_processor = TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    special_tokens = {"unk_token": "[UNK]", "pad_token": "[PAD]", "cls_token": "[CLS]", "sep_token": "[SEP]"}
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, mask_token=special[-1], model_max_length=MAX_LEN, **special_tokens
    )


class _LogitsOnly(torch.nn.Module):
    """`(input_ids, attention_mask) -> logits`: the traceable serving signature of the classifier."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


# Fixed example inputs for the trace: padded to MAX_LEN, one of them mostly padding so the mask path is traced.
_TRACE_TEXTS = ["order note", "please check the payment details of my last order before it ships"]


def export_torchscript(model: Any, tokenizer_json: str, path: Path, max_length: int = MAX_LEN) -> None:
    """Trace the classifier on fixed-shape (batch, max_length) inputs; the batch size stays free."""
    tok = serving_tokenizer(tokenizer_json, max_length)
    encodings = tok.encode_batch(_TRACE_TEXTS)
    ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
    mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.long)
    with warnings.catch_warnings():  # torch.jit deprecation and tracer notes about constant tensors
        warnings.simplefilter("ignore")
        with torch.no_grad():
            traced = torch.jit.trace(_LogitsOnly(model.eval()).eval(), (ids, mask), strict=False)
        torch.jit.save(traced, str(path))


class TextClassifier(BaseTextClassifier):
    """The transformers model: used for training and for models saved before the TorchScript export."""

    def __init__(self, tokenizer: PreTrainedTokenizerFast, model: Any, metadata: dict[str, Any]) -> None:
        self.tokenizer = tokenizer
        self.model = model.eval()
        self.metadata = metadata

    def probabilities(self, texts: list[str]) -> np.ndarray:
        with torch.no_grad():
            enc = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_LEN, return_tensors="pt")
            return torch.softmax(self.model(**enc).logits, dim=-1).numpy()

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(directory, safe_serialization=True)
        self.tokenizer.save_pretrained(directory)
        # Serving form: TorchScript + the fast tokenizer's own JSON (loaded by runtime, no transformers).
        tokenizer_json = (directory / TOKENIZER_FILE).read_text()  # written by save_pretrained
        export_torchscript(self.model, tokenizer_json, directory / SCRIPT_FILE)
        self.metadata["serving"] = {
            "format": SERVING_FORMAT,
            "files": [SCRIPT_FILE, TOKENIZER_FILE],
            "max_length": MAX_LEN,
            "inputs": ["input_ids", "attention_mask"],
            "torch": torch.__version__,
            "tokenizers": tokenizers.__version__,
            "fallback": "transformers (config.json + model.safetensors)",
        }
        (directory / "metadata.json").write_text(json.dumps(self.metadata, indent=2, sort_keys=True))

    @classmethod
    def load(cls, directory: Path) -> TextClassifier:
        """Load from an explicit directory only; never from a hub."""
        tokenizer = PreTrainedTokenizerFast.from_pretrained(str(directory), local_files_only=True)
        model = BertForSequenceClassification.from_pretrained(str(directory), local_files_only=True)
        metadata = json.loads((directory / "metadata.json").read_text())
        return cls(tokenizer, model, metadata)


def train(n_texts: int = 3000, epochs: int = 4, seed: int = SEED, batch_size: int = 32) -> tuple[TextClassifier, dict]:
    """Train on the first 80% of a generated corpus, evaluate on the last 20% against the keyword baseline."""
    _seed(seed)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    texts, labels = corpus.generate(n_texts, seed=seed)
    cut = int(0.8 * n_texts)
    tokenizer = build_tokenizer(texts[:cut])
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
        pad_token_id=tokenizer.pad_token_id,
        **CONFIG,
    )
    model = BertForSequenceClassification(config)
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    enc = tokenizer(texts[:cut], padding=True, truncation=True, max_length=MAX_LEN, return_tensors="pt")
    y = torch.tensor(labels[:cut])
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(cut, generator=generator)
        for start in range(0, cut, batch_size):
            idx = order[start : start + batch_size]
            out = model(input_ids=enc["input_ids"][idx], attention_mask=enc["attention_mask"][idx], labels=y[idx])
            optimiser.zero_grad()
            out.loss.backward()
            optimiser.step()
    classifier = TextClassifier(tokenizer, model, {})
    test_texts, test_labels = texts[cut:], labels[cut:]
    predicted = classifier.predict(test_texts)
    baseline = [keywords.classify(t) for t in test_texts]
    report = {
        "model": keywords.per_class_metrics(test_labels, predicted),
        "keyword_baseline": keywords.per_class_metrics(test_labels, baseline),
        "accuracy": round(float(np.mean(np.array(predicted) == np.array(test_labels))), 4),
        "baseline_accuracy": round(float(np.mean(np.array(baseline) == np.array(test_labels))), 4),
    }
    import tokenizers
    import transformers

    classifier.metadata = {
        "version": f"bert2-s{seed}-n{n_texts}-e{epochs}",
        "model": "bert-2layer-text-risk",
        "labels": list(LABELS),
        "config": CONFIG,
        "training": {"corpus": "compliance_guardian.textclf.corpus", "texts": n_texts, "train": cut, "seed": seed},
        "metrics_holdout": report,
        "library_versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__,
            "python": platform.python_version(),
        },
    }
    return classifier, report

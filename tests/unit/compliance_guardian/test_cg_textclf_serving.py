"""Text model serving form: TorchScript + tokenizer.json (no transformers) matches the transformers model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import torch

from compliance_guardian.textclf import LABELS, runtime, serving
from compliance_guardian.textclf.model import MAX_LEN, TextClassifier, train

TEXTS = [
    "",
    "hi",
    "please send me your card number and the cvv so I can verify your account",
    "selling replica handguns and ammunition, message me",
    "where is my order? the tracking number has not changed in a week",
    "card ending 1111 was charged twice, " * 12,  # longer than MAX_LEN: truncated
    "URGENT: your account is locked, log in at http://example.test and confirm the code we sent",
]
LONG = ["order note with many words " * 20, "payment card details cvv expiry " * 20]


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    classifier, _ = train(n_texts=240, epochs=1)
    directory = tmp_path_factory.mktemp("text-risk")
    classifier.save(directory)
    return directory


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


def _transformers_logits(reference: TextClassifier, texts: list[str]) -> torch.Tensor:
    with torch.no_grad():
        enc = reference.tokenizer(texts, padding=True, truncation=True, max_length=MAX_LEN, return_tensors="pt")
        return reference.model(**enc).logits


def test_saved_files_and_metadata_record_the_serving_format(saved):
    assert (saved / runtime.SCRIPT_FILE).is_file()
    assert (saved / runtime.TOKENIZER_FILE).is_file()
    assert (saved / "model.safetensors").is_file()  # transformers form kept for training and fallback
    meta = json.loads((saved / "metadata.json").read_text())
    assert meta["serving"]["format"] == "torchscript"
    assert meta["serving"]["max_length"] == MAX_LEN
    assert set(meta["serving"]["files"]) == {runtime.SCRIPT_FILE, runtime.TOKENIZER_FILE}
    assert meta["serving"]["torch"] == torch.__version__
    assert runtime.has_scripted_files(saved)


@pytest.mark.parametrize("texts", [TEXTS, TEXTS[2:3], LONG, TEXTS[:1]], ids=["mixed", "one", "all-truncated", "empty"])
def test_torchscript_logits_match_transformers(saved, texts):
    scripted = runtime.ScriptedTextClassifier.load(saved)
    reference = TextClassifier.load(saved)
    got = scripted.logits(texts)
    want = _transformers_logits(reference, texts)
    assert got.shape == (len(texts), len(LABELS))
    assert torch.allclose(got, want, atol=1e-5, rtol=0), (got - want).abs().max().item()
    assert scripted.predict(texts) == reference.predict(texts)
    assert scripted.classify(texts) == reference.classify(texts)


def test_tokenizer_json_encodes_like_the_transformers_tokenizer(saved):
    tok = runtime.serving_tokenizer((saved / runtime.TOKENIZER_FILE).read_text(), MAX_LEN)
    reference = TextClassifier.load(saved).tokenizer
    enc = reference(TEXTS, padding="max_length", truncation=True, max_length=MAX_LEN)
    encodings = tok.encode_batch(TEXTS)
    assert [e.ids for e in encodings] == enc["input_ids"]
    assert [e.attention_mask for e in encodings] == enc["attention_mask"]


def test_loader_serves_torchscript_and_keeps_metadata(saved):
    classifier = serving._loader(_files(saved))
    assert isinstance(classifier, runtime.ScriptedTextClassifier)
    assert classifier.version == json.loads((saved / "metadata.json").read_text())["version"]
    assert classifier.probabilities([]).shape == (0, len(LABELS))


def _as_old_model(saved: Path, tmp_path: Path) -> Path:
    """A copy as saved before the TorchScript export: no TorchScript file, no serving entry."""
    old = tmp_path / "old"
    shutil.copytree(saved, old)
    (old / runtime.SCRIPT_FILE).unlink()
    meta = json.loads((old / "metadata.json").read_text())
    del meta["serving"]
    (old / "metadata.json").write_text(json.dumps(meta))
    return old


def test_models_saved_before_the_export_fall_back_to_transformers(saved, tmp_path):
    old = _as_old_model(saved, tmp_path)
    assert not runtime.has_scripted_files(old)
    classifier = serving._loader(_files(old))
    assert isinstance(classifier, TextClassifier)
    scripted = runtime.ScriptedTextClassifier.load(saved)
    np.testing.assert_allclose(classifier.probabilities(TEXTS), scripted.probabilities(TEXTS), atol=1e-6)


def test_unloadable_torchscript_falls_back_to_transformers(saved, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(saved, broken)
    (broken / runtime.SCRIPT_FILE).write_bytes(b"not a torchscript archive")
    assert isinstance(serving._loader(_files(broken)), TextClassifier)


def test_serving_path_does_not_import_transformers(saved):
    code = (
        "import sys; from pathlib import Path; from compliance_guardian.textclf import serving; "
        f"d = Path({str(saved)!r}); "
        "c = serving._loader({p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}); "
        "r = c.classify(['is this listing allowed']); "
        "print(type(c).__name__, 'transformers' in sys.modules, r[0]['label'])"
    )
    src = str(Path(serving.__file__).parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    name, imported, label = out.stdout.split()
    assert name == "ScriptedTextClassifier"
    assert imported == "False"
    assert label in LABELS

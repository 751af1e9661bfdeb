"""Text model in the artifacts bucket: save, load the current version (with fallback), train when missing."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from compliance_guardian.exceptions import ModelUnavailableError
from compliance_guardian.store import ModelStore
from retail_platform.observability import record
from retail_platform.storage.blobstore import BlobStore, S3Client

MODEL = "text-risk"
logger = logging.getLogger(__name__)


def _loader(files: dict[str, bytes]) -> Any:
    """TorchScript + tokenizer.json when the version has them (no transformers import), else transformers."""
    from compliance_guardian.textclf import runtime

    directory = Path(tempfile.mkdtemp(prefix="text-risk-"))  # /tmp: the only writable place in Lambda
    for name, body in files.items():
        (directory / name).write_bytes(body)
    if runtime.has_scripted_files(directory):
        try:
            return runtime.ScriptedTextClassifier.load(directory)
        except Exception:  # e.g. a TorchScript file from an incompatible torch: the transformers files still load
            logger.warning("TorchScript text model did not load; falling back to transformers", exc_info=True)
            record("DegradedAnswers", 1, part="text-model-torchscript")
    from compliance_guardian.textclf.model import TextClassifier  # models saved before the TorchScript export

    return TextClassifier.load(directory)


def load_current(s3: S3Client | BlobStore, bucket: str) -> Any:
    model, _ = ModelStore(s3, bucket, MODEL).load(_loader)
    return model


def save(s3: S3Client | BlobStore, bucket: str, classifier: Any) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        classifier.save(Path(tmp))
        files = {p.name: p.read_bytes() for p in Path(tmp).iterdir() if p.is_file()}
    return ModelStore(s3, bucket, MODEL).save(classifier.version, files, classifier.metadata)


def ensure_text_model(s3: S3Client | BlobStore, bucket: str, n_texts: int = 3000, epochs: int = 4) -> dict[str, Any]:
    """Train and store the text model when none exists (the corpus is fixed, so a present model is current)."""
    store = ModelStore(s3, bucket, MODEL)
    try:
        store.load(lambda files: files["metadata.json"])
        return {"status": "current", "version": store.current_version()}
    except ModelUnavailableError:
        pass
    from compliance_guardian.textclf.model import train

    classifier, report = train(n_texts=n_texts, epochs=epochs)
    save(s3, bucket, classifier)
    return {"status": "trained", "version": classifier.version, "metrics_holdout": report}

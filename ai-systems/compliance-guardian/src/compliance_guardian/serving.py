"""The models the online routes serve, loaded on first use and kept for the execution environment.

The current fraud model is S3 state that the batch path changes (a retrain moves current.json), so a warm
function checks the pointer again after `POINTER_MAX_AGE` seconds and reloads only when it moved.
Pinned versions never change and are kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from compliance_guardian.exceptions import BadRequestError, ModelUnavailableError, NotFoundError
from retail_platform.observability import logger

POINTER_MAX_AGE = 60.0  # seconds a warm function serves the current fraud model before checking current.json


class ServingModels:
    """The current fraud model (with fallback to the last good version), pinned versions, and the text model."""

    def __init__(
        self, s3: Callable[[], Any], artifacts_bucket: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.s3 = s3
        self.bucket = artifacts_bucket
        self.clock = clock
        self._loaded: dict[str, Any] = {}
        self._current_checked: tuple[float, str | None] | None = None  # when, and which version was current

    def clear(self) -> None:
        """Forget every loaded model (the next request loads the current versions)."""
        self._loaded.clear()
        self._current_checked = None

    def _current_moved(self, store: Any) -> bool:
        """True when the cached current model is older than POINTER_MAX_AGE and current.json names another."""
        if self._current_checked is None:
            return True
        checked_at, version = self._current_checked
        if self.clock() - checked_at < POINTER_MAX_AGE:
            return False
        now_current = store.current_version()
        self._current_checked = (self.clock(), version)
        return now_current != version

    def fraud(self, version: str | None = None) -> Any:
        """The serving fraud model, or a pinned version: 404 only when that version does not exist.

        A version that exists but cannot be read (throttled, corrupt) is a server failure, not a 404.
        """
        from compliance_guardian.fraud.model import FraudModel
        from compliance_guardian.store import ModelStore

        key = version or "current"
        store = ModelStore(self.s3(), self.bucket, "fraud")
        if version is None and key in self._loaded and self._current_moved(store):
            del self._loaded[key]
        if key not in self._loaded:
            if version is None:
                self._loaded[key] = self._current(store, FraudModel.from_files)
                self._current_checked = (self.clock(), store.current_version())
            else:
                if not store.has_version(version):
                    raise NotFoundError(f"unknown fraud model version {version!r}")
                self._loaded[key] = FraudModel.from_files(store.read_files(version))
        return self._loaded[key]

    @staticmethod
    def _current(store: Any, loader: Callable[[dict[str, bytes]], Any]) -> Any:
        """The current version (or the last good one); ModelUnavailableError with a message for the caller."""
        try:
            model, _ = store.load(loader)
        except ModelUnavailableError as e:
            logger.warning("model unavailable", extra={"error": str(e)})
            if str(e).startswith("no loadable model version"):  # stored versions exist but every one is corrupt
                raise ModelUnavailableError(
                    "no loadable model: every stored version is unreadable; the batch path retrains"
                ) from e
            raise ModelUnavailableError(
                "no fraud model has been trained yet; the batch path trains one from prod payments"
            ) from e
        return model

    def text(self) -> Any:
        """The card-data risk text classifier (current version)."""
        from compliance_guardian.textclf.serving import load_current

        if "text" not in self._loaded:
            self._loaded["text"] = load_current(self.s3(), self.bucket)
        return self._loaded["text"]

    @staticmethod
    def wants_classification(payload: dict[str, Any]) -> bool:
        """The scan request's `classify` flag (false by default); BadRequestError when it cannot be honoured."""
        classify = payload.get("classify", False)
        if not isinstance(classify, bool):
            raise BadRequestError('"classify" must be true or false')
        if classify and "text" not in payload:
            raise BadRequestError('"classify" needs "text"')
        return classify

    def classify(self, masked_text: str) -> dict[str, Any]:
        """The text model's card-data risk class of an already masked text, with the model version."""
        classifier = self.text()
        return {"classification": classifier.classify([masked_text])[0], "text_model_version": classifier.version}

"""A global windowed Keras model trained across all series (TensorFlow imported only here, on demand).

Each training example is a window of the last `lookback` values of one series, scaled by that window's mean
absolute value, plus the season position of the first target period; the target is the next `horizon` values
on the same scale. One small MLP learns the shapes shared by all markets.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 7
# batches run per call into TensorFlow: the same batches and updates as one call per batch, without Python's
# per-step overhead, which dominated training on a few thousand windows (about 4 ms a step, 1,860 steps a fit)
STEPS_PER_EXECUTION = 64
BATCH = 64


def _tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_HOME", os.path.join(tempfile.gettempdir(), ".keras"))
    import tensorflow as tf

    tf.keras.utils.set_random_seed(SEED)
    with contextlib.suppress(AttributeError, RuntimeError):  # both refuse once TensorFlow has started
        tf.config.experimental.enable_op_determinism()
        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf.config.threading.set_intra_op_parallelism_threads(1)
    return tf


def _season_features(dates: pd.DatetimeIndex) -> np.ndarray:
    angle = 2 * np.pi * dates.dayofyear.to_numpy(float) / 365.25
    return np.column_stack([np.sin(angle), np.cos(angle)])


def _scale(window: np.ndarray) -> float:
    return float(np.mean(np.abs(window))) or 1.0


@dataclass
class GlobalWindowModel:
    lookback: int
    horizon: int
    model: object | None = None
    epochs: int = 60

    def _examples(self, series: list[pd.Series], step_days: float) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for y in series:
            values = y.to_numpy(float)
            n = len(values)
            for end in range(self.lookback, n - self.horizon + 1):
                window = values[end - self.lookback : end]
                scale = _scale(window)
                first = y.index[end - 1] + pd.Timedelta(days=step_days)
                xs.append(np.concatenate([window / scale, _season_features(pd.DatetimeIndex([first]))[0]]))
                ys.append(values[end : end + self.horizon] / scale)
        return np.asarray(xs, dtype="float32"), np.asarray(ys, dtype="float32")

    def fit(self, series: list[pd.Series], step_days: float) -> GlobalWindowModel:
        x, y = self._examples(series, step_days)
        if len(x) < 8:
            raise ValueError(f"too few training windows for the global model: {len(x)}")
        tf = _tf()
        model = tf.keras.Sequential(
            [
                tf.keras.layers.Input(shape=(x.shape[1],)),
                tf.keras.layers.Dense(64, activation="relu"),
                tf.keras.layers.Dense(32, activation="relu"),
                tf.keras.layers.Dense(self.horizon),
            ]
        )
        model.compile(optimizer=tf.keras.optimizers.Adam(1e-3), loss="mae", steps_per_execution=STEPS_PER_EXECUTION)
        # one input pipeline for the whole training (reshuffled every epoch, as fit(x, y, shuffle=True) does), so
        # Keras keeps one iterator instead of building one per epoch
        steps = -(-len(x) // BATCH)
        data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=SEED).batch(BATCH).repeat()
        model.fit(data, epochs=self.epochs, steps_per_epoch=steps, verbose=0, shuffle=False)
        self.model = model
        return self

    def can_forecast(self, y: pd.Series) -> bool:
        return len(y) >= self.lookback

    def predict(self, y: pd.Series, step_days: float) -> np.ndarray:
        window = y.to_numpy(float)[-self.lookback :]
        scale = _scale(window)
        first = y.index[-1] + pd.Timedelta(days=step_days)
        x = np.concatenate([window / scale, _season_features(pd.DatetimeIndex([first]))[0]])[None, :].astype("float32")
        return self.model(x, training=False).numpy()[0].astype(float) * scale

    def predict_many(self, series: list[pd.Series], step_days: float) -> list[np.ndarray]:
        rows, scales = [], []
        for y in series:
            window = y.to_numpy(float)[-self.lookback :]
            scale = _scale(window)
            first = y.index[-1] + pd.Timedelta(days=step_days)
            rows.append(np.concatenate([window / scale, _season_features(pd.DatetimeIndex([first]))[0]]))
            scales.append(scale)
        out = self.model(np.asarray(rows, dtype="float32"), training=False).numpy()
        return [out[i].astype(float) * scales[i] for i in range(len(series))]

    def save(self, path: Path) -> None:
        """Keras native format (.keras): portable across TensorFlow/Keras patch versions."""
        self.model.save(path)

    @classmethod
    def load(cls, path: Path, lookback: int, horizon: int) -> GlobalWindowModel:
        tf = _tf()
        return cls(lookback, horizon, tf.keras.models.load_model(path, compile=False))

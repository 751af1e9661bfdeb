"""A global windowed Keras model trained across all series (TensorFlow imported only here, on demand).

Each training example is a window of the last `lookback` values of one series, scaled by that window's mean
absolute value, plus the season position of the first target period; the target is the next `horizon` values
on the same scale. One small MLP learns the shapes shared by all markets.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

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


_NETWORKS: dict[tuple[int, int], tuple[object, list[np.ndarray]]] = {}
_NETWORKS_LOCK = threading.Lock()


def _network(n_inputs: int, horizon: int):
    """A compiled MLP with its initial weights and a fresh optimizer state, ready to fit.

    Building, compiling and tracing a Keras model's training step costs about 0.9 s of CPU, more than its
    60 epochs on a shard's windows; a run fits the same shape once per fold cut and shard, so the compiled
    network is kept per shape and reset (initial weights, optimizer moments and step counter to zero)
    before each fit: every fit starts from the same state, as a newly built model with the seed would.
    """
    tf = _tf()
    with _NETWORKS_LOCK:
        cached = _NETWORKS.get((n_inputs, horizon))
        if cached is None:
            network = tf.keras.Sequential(
                [
                    tf.keras.layers.Input(shape=(n_inputs,)),
                    tf.keras.layers.Dense(64, activation="relu"),
                    tf.keras.layers.Dense(32, activation="relu"),
                    tf.keras.layers.Dense(horizon),
                ]
            )
            network.compile(
                optimizer=tf.keras.optimizers.Adam(1e-3), loss="mae", steps_per_execution=STEPS_PER_EXECUTION
            )
            cached = (network, network.get_weights())
            _NETWORKS[(n_inputs, horizon)] = cached
        network, initial = cached
        network.set_weights(initial)
        for variable in network.optimizer.variables:  # step counter, moments; the learning rate stays
            if not variable.path.endswith("learning_rate"):
                variable.assign(tf.zeros_like(variable))
        return network


def _season_features(dates: pd.DatetimeIndex) -> np.ndarray:
    angle = 2 * np.pi * dates.dayofyear.to_numpy(float) / 365.25
    return np.column_stack([np.sin(angle), np.cos(angle)])


def _scale(window: np.ndarray) -> float:
    return float(np.mean(np.abs(window))) or 1.0


@dataclass
class GlobalWindowModel:
    lookback: int
    horizon: int
    model: object | None = None  # a loaded Keras model (`load`); a fit keeps its weights instead
    epochs: int = 60
    weights: list[np.ndarray] | None = None

    def _examples(self, series: list[pd.Series], step_days: float) -> tuple[np.ndarray, np.ndarray]:
        """Every window of `lookback` values followed by `horizon` values, of every series, on its own scale."""
        xs, ys = [], []
        for y in series:
            values = y.to_numpy(float)
            n = len(values)
            if n < self.lookback + self.horizon:
                continue
            windows = sliding_window_view(values, self.lookback + self.horizon)
            scales = np.mean(np.abs(windows[:, : self.lookback]), axis=1)
            scales[scales == 0] = 1.0
            firsts = y.index[self.lookback - 1 : n - self.horizon] + pd.Timedelta(days=step_days)
            xs.append(np.column_stack([windows[:, : self.lookback] / scales[:, None], _season_features(firsts)]))
            ys.append(windows[:, self.lookback :] / scales[:, None])
        if not xs:
            return np.empty((0, self.lookback + 2), "float32"), np.empty((0, self.horizon), "float32")
        return np.concatenate(xs).astype("float32"), np.concatenate(ys).astype("float32")

    def fit(self, series: list[pd.Series], step_days: float) -> GlobalWindowModel:
        x, y = self._examples(series, step_days)
        if len(x) < 8:
            raise ValueError(f"too few training windows for the global model: {len(x)}")
        tf = _tf()
        network = _network(x.shape[1], self.horizon)
        # one input pipeline for the whole training (reshuffled every epoch, as fit(x, y, shuffle=True) does), so
        # Keras keeps one iterator instead of building one per epoch
        steps = -(-len(x) // BATCH)
        data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=SEED).batch(BATCH).repeat()
        network.fit(data, epochs=self.epochs, steps_per_epoch=steps, verbose=0, shuffle=False)
        self.weights = network.get_weights()  # the cached network is refitted by the next training
        self.model = None
        return self

    def can_forecast(self, y: pd.Series) -> bool:
        return len(y) >= self.lookback

    def predict(self, y: pd.Series, step_days: float) -> np.ndarray:
        return self.predict_many([y], step_days)[0]

    def predict_many(self, series: list[pd.Series], step_days: float) -> list[np.ndarray]:
        rows, scales = [], []
        for y in series:
            window = y.to_numpy(float)[-self.lookback :]
            scale = _scale(window)
            first = y.index[-1] + pd.Timedelta(days=step_days)
            rows.append(np.concatenate([window / scale, _season_features(pd.DatetimeIndex([first]))[0]]))
            scales.append(scale)
        out = self._forward(np.asarray(rows, dtype="float32"))
        return [out[i].astype(float) * scales[i] for i in range(len(series))]

    def _forward(self, x: np.ndarray) -> np.ndarray:
        """The MLP's output (Dense-ReLU, Dense-ReLU, Dense) in float32 numpy: no TensorFlow call per prediction."""
        weights = self.weights if self.weights is not None else self.model.get_weights()
        kernels, biases = weights[0::2], weights[1::2]
        h = x
        for i, (kernel, bias) in enumerate(zip(kernels, biases, strict=True)):
            h = h @ kernel + bias
            if i < len(kernels) - 1:
                h = np.maximum(h, 0, dtype="float32")
        return h

    def save(self, path: Path) -> None:
        """Keras native format (.keras): portable across TensorFlow/Keras patch versions."""
        if self.model is not None:
            self.model.save(path)
            return
        network = _network(self.weights[0].shape[0], self.horizon)
        network.set_weights(self.weights)
        network.save(path)

    @classmethod
    def load(cls, path: Path, lookback: int, horizon: int) -> GlobalWindowModel:
        tf = _tf()
        return cls(lookback, horizon, tf.keras.models.load_model(path, compile=False))

"""Caches of S3 state with an expiry, so a warm function sees what changed in a bucket within `max_age`."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Expiring(Generic[T]):
    """The value of a no-argument loader, reloaded when it is older than `max_age` seconds.

    Unlike `lru_cache` the value does not live as long as the execution environment: a contract uploaded to the
    artifacts bucket is seen by a warm function after at most `max_age`. `cache_clear()` forces the next reload.
    """

    def __init__(self, loader: Callable[[], T], max_age: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.loader = loader
        self.max_age = max_age
        self.clock = clock
        self._value: T | None = None
        self._loaded_at: float | None = None
        self._lock = threading.Lock()
        functools.update_wrapper(self, loader)

    def __call__(self) -> T:
        with self._lock:
            now = self.clock()
            if self._loaded_at is None or now - self._loaded_at >= self.max_age:
                self._value = self.loader()
                self._loaded_at = now
            return self._value  # type: ignore[return-value]

    def cache_clear(self) -> None:
        with self._lock:
            self._value, self._loaded_at = None, None


def expiring(max_age: float) -> Callable[[Callable[[], T]], Expiring[T]]:
    """Decorator form of `Expiring`: `@expiring(60)` over a function that reads S3 state."""

    def wrap(loader: Callable[[], T]) -> Expiring[T]:
        return Expiring(loader, max_age)

    return wrap


__all__ = ["Expiring", "expiring"]

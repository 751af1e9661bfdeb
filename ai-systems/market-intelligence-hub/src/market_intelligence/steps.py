"""The forecast run in one process (`whole`), or as the MarketForecastStateMachine's steps: plan,
forecast_shard (one Map iteration) and merge.

Each step checks its own input (BadEventError saying which field is wrong) and imports the heavy
forecasting code only when it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from market_intelligence.config import MarketSettings
from retail_platform.exceptions import BadEventError
from retail_platform.observability import logger
from retail_platform.storage.blobstore import BlobStore

if TYPE_CHECKING:
    from market_intelligence.store import Buckets


def whole(buckets: Buckets, dataset: str, cfg: MarketSettings) -> Any:
    """The whole batch path in this invocation (an event or the schedule): forecasts, trends, elasticity."""
    from market_intelligence import batch

    return batch.run(buckets, dataset, cfg.options, cfg.shard_size, cfg.dimensions)


def forced(event: dict[str, Any]) -> bool:
    """The plan step's optional `force` (a boolean): plan a new run even when the inputs are unchanged."""
    value = event.get("force", False)
    if not isinstance(value, bool):
        raise BadEventError("step 'plan' takes 'force' as true or false")
    return value


def plan(buckets: Buckets, cfg: MarketSettings, force: bool = False) -> dict[str, Any]:
    """Write the run's plan (markets per shard); `status` is `empty` when there is nothing to forecast, and
    `up_to_date` when the last completed run read exactly these inputs with these settings (`freshness`): the
    state machine then ends without forecasting (its Choice goes on to the shards only for `planned`).
    `force` plans a new run all the same (a refit on demand, or stepping through the state machine by hand)."""
    from market_intelligence import batch, freshness

    prints = freshness.fingerprints(buckets.prod, cfg.options, cfg.shard_size, cfg.dimensions)
    record = freshness.last_complete(buckets.artifacts)
    done = freshness.matches(record, "forecast", prints.forecast)
    if done and not force and freshness.matches(record, "trends", prints.trends):
        logger.info("forecast run up to date", extra={"version": done.get("version")})
        return {"version": done.get("version"), "n_series": 0, "shards": [], "status": "up_to_date"}
    planned = batch.start(buckets, cfg.options, cfg.shard_size, cfg.dimensions, prints)
    logger.info("forecast run planned", extra={k: planned[k] for k in ("version", "n_series")})
    return {**planned, "status": "planned" if planned["version"] else "empty"}


def forecast_shard(artifacts: BlobStore, event: dict[str, Any]) -> dict[str, Any]:
    """Forecast one shard of a planned run (a retried iteration rewrites the same files)."""
    from market_intelligence import sharded

    shard = event.get("shard")
    if not isinstance(shard, int) or isinstance(shard, bool):
        raise BadEventError("step 'forecast_shard' needs 'shard' (an integer from the plan step)")
    done = sharded.run_shard(artifacts, version(event), shard)
    logger.info("forecast shard done", extra=done)
    return done


def merge(buckets: Buckets, event: dict[str, Any]) -> Any:
    """Merge the shards of a run into the prod forecasts (an InputError names shards without results)."""
    from market_intelligence import batch

    return batch.merge(buckets, version(event))


def version(event: dict[str, Any]) -> str:
    value = event.get("version")
    if not isinstance(value, str) or not value:
        raise BadEventError(f"step {event.get('step')!r} needs the run's version (a string) from the plan step")
    return value

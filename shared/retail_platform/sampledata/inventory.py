"""Stock simulation per SKU x location: reorder policy, supplier disruptions, stock-outs that censor sales."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .catalog import Catalog
from .demand import MEAN_QTY, DemandLines
from .params import Params, stream

SAFETY_DAYS = 5
CYCLE_DAYS = 14
SKU_DISRUPTIONS_PER_YEAR = 0.4  # supplier problems hitting every location of a SKU
CELL_DISRUPTIONS_PER_YEAR = 0.3  # problems of one SKU at one location


@dataclass(frozen=True)
class StockLedger:
    """End-of-day stock per (day, sku, location) and which demanded lines could be served."""

    on_hand: np.ndarray  # (D, S, C) int
    on_order: np.ndarray  # (D, S, C) int
    lead_time: np.ndarray  # (S, C) int days
    served: np.ndarray  # bool per demanded line
    stockout_cell_days: int  # cells with on_hand 0 at end of day (after launch)
    disruptions: int


def _disruption_mask(params: Params, S: int, C: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """(D, S, C) True while deliveries are held back at the supplier."""
    D = params.days
    years = D / 365.25
    blocked = np.zeros((D, S, C), dtype=bool)
    n = 0
    for s in range(S):
        for _ in range(rng.poisson(SKU_DISRUPTIONS_PER_YEAR * years)):
            start, length = int(rng.integers(0, D)), int(rng.integers(14, 40))
            blocked[start : start + length, s, :] = True
            n += 1
        for c in range(C):
            for _ in range(rng.poisson(CELL_DISRUPTIONS_PER_YEAR * years)):
                start, length = int(rng.integers(0, D)), int(rng.integers(10, 35))
                blocked[start : start + length, s, c] = True
                n += 1
    return blocked, n


def simulate_stock(params: Params, catalog: Catalog, lam: np.ndarray, lines: DemandLines) -> StockLedger:
    """Run an (s, S) replenishment policy day by day; a line is served only if stock covers it."""
    rng = stream(params.seed, "inventory")
    D, S, C = lam.shape
    lead = rng.integers(3, 22, size=(S, 1)) + rng.integers(0, 5, size=(S, C))
    blocked, n_disruptions = _disruption_mask(params, S, C, rng)

    units = lam * MEAN_QTY
    cum = np.concatenate([np.zeros((1, S, C)), np.cumsum(units, axis=0)], axis=0)  # (D+1, S, C)
    s_idx, c_idx = np.meshgrid(np.arange(S), np.arange(C), indexing="ij")

    def forward(d: int, horizon: np.ndarray) -> np.ndarray:
        return cum[np.minimum(d + horizon, D), s_idx, c_idx] - cum[d]

    arrivals = np.zeros((D + 64, S, C), dtype=np.int64)
    on_hand = np.zeros((S, C), dtype=np.int64)
    on_order = np.zeros((S, C), dtype=np.int64)
    hist_hand = np.zeros((D, S, C), dtype=np.int64)
    hist_order = np.zeros((D, S, C), dtype=np.int64)
    served = np.zeros(len(lines), dtype=bool)
    bounds = np.searchsorted(lines.day, np.arange(D + 1))
    launch = np.maximum(catalog.launch_day, 0)

    for d in range(D):
        # goods arrive unless the supplier is disrupted (then they slip a day)
        arr = arrivals[d]
        held = blocked[d] & (arr > 0)
        arrivals[d + 1][held] += arr[held]
        arr = np.where(held, 0, arr)
        on_hand += arr
        on_order -= arr
        starting = launch == d
        if starting.any():  # first stock of a SKU: an initial buy covering lead time and a cycle
            init = np.ceil(forward(d, lead + SAFETY_DAYS + CYCLE_DAYS) * 1.1 + 2).astype(np.int64)
            if d == 0:
                init = np.ceil(init * rng.uniform(0.6, 1.0, size=(S, C))).astype(np.int64)
            on_hand[starting] = init[starting]

        lo, hi = bounds[d], bounds[d + 1]
        if hi > lo:
            cell = lines.sku[lo:hi] * C + lines.country[lo:hi]
            qty = lines.qty[lo:hi]
            csum = np.cumsum(qty)
            first = np.r_[True, cell[1:] != cell[:-1]]
            group_start = np.maximum.accumulate(np.where(first, np.arange(hi - lo), 0))
            within = csum - np.r_[0, csum][group_start]  # running quantity within the cell
            ok = within <= on_hand.ravel()[cell]
            served[lo:hi] = ok
            sold = np.bincount(cell[ok], weights=qty[ok], minlength=S * C).astype(np.int64).reshape(S, C)
            on_hand -= sold

        active = (catalog.launch_day <= d)[:, None]
        reorder_point = forward(d, lead + SAFETY_DAYS) * 1.1 + 1
        need = active & (on_hand + on_order <= reorder_point) & ~blocked[d]
        if need.any():
            target = reorder_point + forward(d, lead + SAFETY_DAYS + CYCLE_DAYS) - forward(d, lead + SAFETY_DAYS)
            qty_order = np.ceil(target - on_hand - on_order).astype(np.int64)
            qty_order = np.where(need, np.maximum(qty_order, 1), 0)
            due = d + lead
            for s, c in zip(*np.nonzero(need), strict=True):
                arrivals[due[s, c], s, c] += qty_order[s, c]
            on_order += qty_order
        hist_hand[d] = on_hand
        hist_order[d] = on_order

    launched = np.arange(D)[:, None] >= catalog.launch_day[None, :]
    stockouts = int(((hist_hand == 0) & launched[:, :, None]).sum())
    return StockLedger(hist_hand, hist_order, lead, served, stockouts, n_disruptions)

"""demand_insights: SKU demand forecasting, inventory advice and customer analytics (no Lambda code here)."""

from __future__ import annotations

import os

# LightGBM's OpenMP threads must not spin while waiting (Lambda and CI share their vCPUs); read when
# libgomp loads, so it is set before any submodule imports lightgbm.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__all__: list[str] = []

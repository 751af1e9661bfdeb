"""Cross-country market analysis: KPIs, growth with confidence intervals, significance, co-movement, anomalies.

Domain code only: it takes dataframes and returns dataframes / JSON documents, and knows nothing of Lambda.
Heavy libraries (scipy, statsmodels, holidays) are imported inside the functions that need them, so that
the online path (serving stored results) does not pay for them.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy: Lambda has 1-2 vCPUs, BLAS thread pools only oversubscribe them

__all__ = ["__version__"]
__version__ = "1.0.0"

"""Charts as inline PNG `<img>` tags for the HTML reports, drawn by the caller on matplotlib axes.

matplotlib is imported only here and only when a chart is drawn (it is optional: an image without it gets tables
only). Figures are built with `matplotlib.figure.Figure`, not pyplot, so no global backend or figure state is touched
(matplotlib's advice for servers). In Lambda only /tmp is writable, so its config/cache dir goes there.
"""

from __future__ import annotations

import base64
import html
import io
import os
import tempfile
from collections.abc import Callable
from typing import Any

Draw = Callable[[Any], object]
"""Draws on the axes it is given: one `Axes`, or an array of them when the figure has several columns."""


def _figure_class() -> Any | None:
    """matplotlib's `Figure`, or None where matplotlib is not installed."""
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # read-only home: keep matplotlib's cache under /tmp
        os.environ.setdefault("MPLCONFIGDIR", os.path.join(tempfile.gettempdir(), "matplotlib"))
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    return Figure


def png(draw: Draw, *, figsize: tuple[float, float] = (8, 3.2), dpi: int = 100, ncols: int = 1) -> bytes | None:
    """The PNG bytes of what `draw` drew on a figure of `figsize` inches at `dpi`; None without matplotlib."""
    figure_class = _figure_class()
    if figure_class is None:
        return None
    figure = figure_class(figsize=figsize, dpi=dpi)
    draw(figure.subplots(1, ncols))
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def img_tag(data: bytes, alt: str = "chart") -> str:
    """An `<img>` carrying the PNG inline, so that the report is one self-contained file."""
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}"/>'


def chart_html(
    draw: Draw, *, alt: str = "chart", figsize: tuple[float, float] = (8, 3.2), dpi: int = 100, ncols: int = 1
) -> str:
    """The chart as an inline `<img>`, or "" where matplotlib is not installed (the report keeps its tables)."""
    data = png(draw, figsize=figsize, dpi=dpi, ncols=ncols)
    return "" if data is None else img_tag(data, alt)

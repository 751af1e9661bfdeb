"""Shared presentation helpers of the HTML reports: charts as inline PNG, one fragment type per system's section.

Importing this package is cheap (standard library only): matplotlib is imported when a chart is drawn, so that a
Lambda function that never draws one does not pay for it at init.
"""

from __future__ import annotations

from retail_platform.presentation.charts import chart_html, img_tag, png
from retail_platform.presentation.fragment import ReportFragment, bullet_list, frame_table

__all__ = ["ReportFragment", "bullet_list", "chart_html", "frame_table", "img_tag", "png"]

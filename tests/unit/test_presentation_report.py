"""The shared report helpers: charts as inline PNG (matplotlib lazily, optional) and the section fragment type."""

from __future__ import annotations

import base64
import os
import struct
import subprocess
import sys

import pandas as pd
import pytest

from retail_platform.presentation import ReportFragment, bullet_list, chart_html, frame_table, img_tag, png


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (PNG spec: signature, length, 'IHDR', width, height)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_a_chart_is_a_png_of_figsize_times_dpi_inline_in_an_img_tag():
    drawn = []
    tag = chart_html(lambda ax: drawn.append(ax.bar(["a", "b"], [1, 3])), alt='units "sold"', figsize=(7, 2.4), dpi=90)
    assert len(drawn) == 1 and tag.startswith('<img alt="units &quot;sold&quot;" src="data:image/png;base64,')
    data = base64.b64decode(tag.split("base64,", 1)[1].rstrip('"/>'))
    assert _png_size(data) == (630, 216)  # 7 x 90, 2.4 x 90


def test_several_columns_hand_the_drawing_an_array_of_axes():
    seen = []
    data = png(lambda axes: seen.append(len(axes)), figsize=(4, 2), dpi=50, ncols=2)
    assert seen == [2] and _png_size(data) == (200, 100)


def test_without_matplotlib_there_is_no_chart_and_no_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import of it raises ImportError
    assert png(lambda ax: None) is None and chart_html(lambda ax: None) == ""
    fragment = ReportFragment("s").add("<p>table</p>").add_chart(lambda ax: None)
    assert fragment.parts == ["<p>table</p>"]


def test_in_lambda_matplotlib_config_goes_under_tmp(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    monkeypatch.delenv("MPLCONFIGDIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    png(lambda ax: None, figsize=(1, 1), dpi=10)
    assert os.environ["MPLCONFIGDIR"] == str(tmp_path / "matplotlib")


def test_importing_the_package_does_not_import_matplotlib_or_pandas():
    code = (
        "import sys, retail_platform.presentation; "
        "print(sorted(m for m in ('matplotlib', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_img_tag_is_self_contained():
    assert img_tag(b"\x89PNG", "a<b") == '<img alt="a&lt;b" src="data:image/png;base64,iVBORw=="/>'


def test_a_fragment_shows_title_errors_skipped_then_parts_escaping_plain_text():
    fragment = ReportFragment("demand<1>", errors=["on X: E: a&b"], skipped=["no <inventory>"])
    fragment.add("<p>one</p>", None, "", "<p>two</p>")
    assert fragment.html() == (
        "<h3>demand&lt;1&gt;</h3>\n"
        "<p class='failed'><b>Failed</b> (the other systems still ran):</p><ul><li>on X: E: a&amp;b</li></ul>\n"
        "<p>What it could not do with this data:</p><ul><li>skipped: no &lt;inventory&gt;</li></ul>\n"
        "<p>one</p>\n<p>two</p>"
    )


def test_an_empty_fragment_is_empty_and_renders_its_title_only():
    assert ReportFragment().html() == "" and ReportFragment().empty
    titled = ReportFragment("Market intelligence", level=2)
    assert titled.empty and titled.html() == "<h2>Market intelligence</h2>"


def test_bullet_list_and_frame_table():
    assert bullet_list(["a<b", 3]) == "<ul><li>a&lt;b</li><li>3</li></ul>"
    table = frame_table(pd.DataFrame({"sku": ["x", "y", "z"], "value": [1234.5678, 2.0, 3.0]}), decimals=3, max_rows=2)
    assert 'class="dataframe t"' in table and "<td>1,234.568</td>" in table and "z" not in table


@pytest.mark.parametrize("decimals, shown", [(2, "0.12"), (0, "0")])
def test_frame_table_rounds_floats_to_the_places_asked(decimals, shown):
    assert f"<td>{shown}</td>" in frame_table(pd.DataFrame({"v": [0.123]}), decimals=decimals)

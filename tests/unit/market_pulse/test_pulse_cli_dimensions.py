"""`python -m market_pulse analyse --dimensions Region` on the real Superstore export: regions are the markets.

The export's money is text ("$1,706"); the table handed to the CLI has it parsed, nothing else changed.
Golden figures per region come from pandas (superstore_regions.py)."""

from __future__ import annotations

import pandas as pd
import pytest
from market_pulse.__main__ import main

from tests.unit.market_pulse.superstore_regions import last_window_by_region, sales_lines


def run_cli(tmp_path, *extra: str) -> int:
    table = tmp_path / "superstore.csv"
    lines = sales_lines()
    lines.assign(date=lines["date"].dt.strftime("%m/%d/%Y")).to_csv(table, index=False)
    common = ["analyse", "--input", str(table), "--out", str(tmp_path / "out"), "--revenue-col", "sales"]
    common += ["--order-col", "order", "--customer-col", "customer", "--date-format", "%m/%d/%Y", "--currency", "USD"]
    return main([*common, *extra])


def test_regions_as_markets(tmp_path, capsys):
    assert run_cli(tmp_path, "--dimensions", "region") == 0
    assert "4 markets by region" in capsys.readouterr().out
    kpis = pd.read_csv(tmp_path / "out" / "kpis.csv").set_index("country")
    expected = last_window_by_region(sales_lines())
    pd.testing.assert_frame_equal(kpis.loc[expected.index, expected.columns].astype(float), expected, rtol=1e-9)
    seasonality = pd.read_csv(tmp_path / "out" / "seasonality.csv")
    assert seasonality["holidays_known"].all()  # the market's country, 'United States', gives its holidays


def test_an_unknown_dimension_is_a_clear_error(tmp_path, capsys):
    assert run_cli(tmp_path, "--dimensions", "region,channel") == 2
    error = capsys.readouterr().err
    assert "input table has no column channel" in error and "'region'" in error


@pytest.mark.parametrize("value", ["Region Name", "a,a", "a,b,c,d"])
def test_settings_refuse_bad_dimension_names(value):
    from market_pulse.config import PulseSettings

    from retail_platform.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="MARKET_PULSE_DIMENSIONS"):
        PulseSettings.from_env({"MARKET_PULSE_DIMENSIONS": value})
    assert PulseSettings.from_env({}).dimensions == ("country",)
    assert PulseSettings.from_env({"MARKET_PULSE_DIMENSIONS": " country , segment "}).dimensions == (
        "country",
        "segment",
    )

"""`python -m demand_insights forecast`: any long table in, forecasts and a backtest out."""

from __future__ import annotations

import json

import pandas as pd

from demand_insights import synthetic
from demand_insights.__main__ import main


def test_cli_forecasts_and_backtests_a_csv(tmp_path, capsys):
    table = synthetic.generate(6, 120, seed=2)[["sku", "date", "units", "price"]]
    table.to_csv(tmp_path / "sales.csv", index=False)
    out = tmp_path / "out"
    code = main(
        [
            "forecast",
            "--input",
            str(tmp_path / "sales.csv"),
            "--id-col",
            "sku",
            "--date-col",
            "date",
            "--qty-col",
            "units",
            "--price-col",
            "price",
            "--horizon",
            "7",
            "--out",
            str(out),
            "--rounds",
            "30",
            "--max-rows",
            "8000",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["series"] == 6 and "wape_p50" in summary["backtest"]["pooled"]
    forecasts = pd.read_csv(out / "forecasts.csv")
    assert len(forecasts) == 6 * 7 and (forecasts["p10"] <= forecasts["p90"]).all()
    assert (out / "model" / "model.txt").exists() and json.loads((out / "backtest.json").read_text())


def test_cli_missing_column_is_exit_2_with_a_message(tmp_path, capsys):
    pd.DataFrame({"a": [1], "b": ["2024-01-01"]}).to_csv(tmp_path / "x.csv", index=False)
    code = main(["forecast", "--input", str(tmp_path / "x.csv"), "--id-col", "a", "--date-col", "b", "--qty-col", "q"])
    assert code == 2 and "missing quantity column 'q'" in capsys.readouterr().err


def test_cli_without_an_id_column_forecasts_the_table_as_one_monthly_series(tmp_path, capsys):
    from tests.support import DATA

    source = DATA / "forecast-us-retail-sales" / "example_retail_sales.csv"
    out = tmp_path / "out"
    args = ["forecast", "--input", str(source), "--date-col", "ds", "--qty-col", "y", "--folds", "0"]
    assert main([*args, "--out", str(out), "--rounds", "30", "--max-rows", "8000"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["series"] == 1 and summary["grain"] == "monthly" and summary["horizon"] == 12
    forecasts = pd.read_csv(out / "forecasts.csv")
    assert list(forecasts["target_date"])[:2] == ["2016-06-01", "2016-07-01"] and len(forecasts) == 12

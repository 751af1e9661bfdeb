"""The composite pulse index, the whole analysis, its documents and the command line."""

from __future__ import annotations

import json

import pandas as pd
from market_pulse import analysis, panel, pulse_index, synthetic
from market_pulse.__main__ import main

from tests.support import DATA


def test_the_fastest_grower_leads_the_index_and_the_explanation_says_why():
    long, _ = synthetic.generate(n_countries=8, days=400, seed=21, growth={"IT": 0.6, "ES": -0.4})
    result = analysis.analyse(panel.from_long_table(long), analysis.PulseConfig(n_boot=200, granger_countries=4))
    pulse = result.tables["pulse"].set_index("country")
    assert pulse["pulse_index"].idxmax() == "IT" and pulse["pulse_index"].idxmin() == "ES"
    assert pulse.loc["IT", "pulse_index"] > 55 > 45 > pulse.loc["ES", "pulse_index"]
    assert "month over month" in pulse.loc["IT", "explanation"]
    assert "significant" in pulse.loc["IT", "explanation"]


def test_a_single_market_is_the_typical_market():
    signals = pd.DataFrame({"country": ["DE"], "mom_growth": [0.2], "share_shift_pp": [0.0]})
    row = pulse_index.compute(signals).iloc[0]
    assert row["pulse_index"] == 50 and "+20.0% month over month" in row["explanation"]


def test_analysis_is_reproducible_and_versioned_by_its_inputs():
    long, _ = synthetic.generate(n_countries=4, days=200, seed=1, shocks_per_country=1)
    config = analysis.PulseConfig(n_boot=100, granger_countries=3)
    first = analysis.analyse(panel.from_long_table(long), config)
    second = analysis.analyse(panel.from_long_table(long), config)
    assert first.version == second.version
    for name in analysis.TABLES:
        pd.testing.assert_frame_equal(first.tables[name], second.tables[name])
    long.loc[0, "revenue"] += 1
    assert analysis.analyse(panel.from_long_table(long), config).version != first.version


def test_documents_are_json_and_cover_every_country():
    long, _ = synthetic.generate(n_countries=5, days=120, seed=3, shocks_per_country=1)
    docs = analysis.documents(analysis.analyse(panel.from_long_table(long), analysis.PulseConfig(n_boot=100)))
    json.dumps(docs, allow_nan=False)
    assert set(docs["countries"]) == set(long["country"]) and len(docs["summary"]) == 5
    assert docs["countries"]["DE"]["growth"] and "anomalies" in docs["countries"]["DE"]


def test_cli_on_the_online_retail_sample(tmp_path, capsys):
    code = main(
        [
            "analyse",
            "--input",
            str(DATA / "online-retail" / "online_retail_sample.csv"),
            "--date-col",
            "InvoiceDate",
            "--country-col",
            "Country",
            "--quantity-col",
            "Quantity",
            "--price-col",
            "UnitPrice",
            "--order-col",
            "InvoiceNo",
            "--date-format",
            "%m/%d/%Y %H:%M",
            "--currency",
            "GBP",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    assert "26 countries" in capsys.readouterr().out
    kpis = pd.read_csv(tmp_path / "daily_panel.csv").groupby("country")["revenue"].sum()
    assert round(kpis["United Kingdom"], 2) == 28579.06
    assert {p.stem for p in tmp_path.glob("*.csv")} >= set(analysis.TABLES)


def test_cli_reports_bad_input_without_a_traceback(tmp_path, capsys):
    table = tmp_path / "sales.csv"
    table.write_text("day,market,amount\n2024-01-01,DE,5\n")
    assert main(["analyse", "--input", str(table), "--out", str(tmp_path / "out")]) == 2
    assert "missing columns: date, country, revenue" in capsys.readouterr().err

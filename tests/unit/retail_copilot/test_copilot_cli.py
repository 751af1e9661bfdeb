"""The command line over a folder laid out like the prod bucket (month partitions, an older day one beside)."""

from __future__ import annotations

import json

from retail_copilot.__main__ import main

from tests.unit.retail_copilot.synthetic import make_frames


def test_cli_answers_over_month_partitions(tmp_path, capsys):
    mart, kpis = make_frames(seed=7, days=60)
    for name, frame, field, fmt in (
        ("copilot_mart", mart, "month", "%Y-%m"),
        ("country_kpis", kpis, "date", "%Y-%m-%d"),
    ):
        for label, part in frame.groupby(frame["date"].dt.strftime(fmt)):
            folder = tmp_path / name / f"{field}={label}"
            folder.mkdir(parents=True)
            part.to_parquet(folder / "part-0.parquet")
    assert main(["--prod-dir", str(tmp_path), "--json", "units in Germany last month", "orders last month"]) == 0
    units, orders = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    may = mart.loc[(mart["country"] == "DE") & (mart["date"].dt.strftime("%Y-%m") == "2024-05"), "units"].sum()
    assert units["status"] == "answered" and units["value"] == float(may)
    assert orders["value"] == float(kpis.loc[kpis["date"].dt.strftime("%Y-%m") == "2024-05", "orders"].sum())
    assert units["datasets"][0] == {
        "name": "copilot_mart",
        "partitions": 2,
        "latest_partition": "2024-06",
        "rows": None,
    }

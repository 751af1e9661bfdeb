"""A question bank over REAL public exports: the UCI Online Retail sample and the Tableau Superstore export
(tests/data/online-retail, tests/data/superstore-tableau).

Golden answers are computed here with plain pandas from the raw file (`uci_raw` / `superstore_raw` parse it and
apply the contract's documented row rules), never from the copilot's code or from the prod-shaped frames.
`uci_frames` / `superstore_frames` build the prod frames the copilot reads (copilot_mart with custom attributes
split by dimension and summed by measure, country_kpis, customer_transactions), as curated-to-prod writes them
(interfaces #4), for the unit tier; the integration tier gets them from the real pipeline.
"""

from __future__ import annotations

import pandas as pd

from retail_platform.normalise import country_code
from tests.support import DATA
from tests.unit.retail_copilot.copilot_bank import Case, check_groups, check_ranking, check_refusal, check_value

SUPERSTORE = DATA / "superstore-tableau" / "superstore_orders_sample.csv"
UCI = DATA / "online-retail" / "online_retail_sample.csv"
SUPERSTORE_DIMENSIONS = {
    "Region": "region",
    "State": "state",
    "City": "city",
    "Segment": "segment",
    "Sub-Category": "sub_category",
    "Ship Mode": "ship_mode",
}


def check_no_profit(answer: dict, _: object) -> bool:
    """Refused with a reason that names the missing data, not some other figure."""
    return check_refusal(answer, None) and "no profit or cost column" in answer["answer"]


# ---------------------------------------------------------------------- raw files (golden side)


def superstore_raw() -> pd.DataFrame:
    raw = pd.read_csv(SUPERSTORE, encoding="utf-8-sig")

    def money(column: str) -> pd.Series:
        return pd.to_numeric(raw[column].str.replace(r"[$,]", "", regex=True))

    return raw.assign(
        sales=money("Sales"),
        profit=money("Profit"),
        discount=pd.to_numeric(raw["Discount"].str.rstrip("%")) / 100,
        day=pd.to_datetime(raw["Order Date"], format="%m/%d/%Y"),
    )


def uci_raw() -> pd.DataFrame:
    """The sample's rows that its contract curates: a negative quantity only on a cancellation ('C' invoice), a
    cancellation only with a negative quantity, no negative price (zero prices and missing customers are kept),
    and no fee the shop pays (Amazon's, the bank's, the CRUK commission: costs, not sales)."""
    raw = pd.read_csv(UCI, dtype={"InvoiceNo": str, "StockCode": str}, keep_default_na=False, na_values=["NA", ""])
    cancel = raw["InvoiceNo"].str.startswith("C")
    fee = raw["StockCode"].isin(["AMAZONFEE", "BANK CHARGES", "CRUK"])
    keep = (cancel == (raw["Quantity"] < 0)) & (raw["UnitPrice"] >= 0) & ~fee
    raw = raw[keep].copy()
    raw["cancel"] = raw["InvoiceNo"].str.startswith("C")
    raw["amount"] = raw["Quantity"] * raw["UnitPrice"]
    raw["day"] = pd.to_datetime(raw["InvoiceDate"], format="%m/%d/%Y %H:%M").dt.normalize()
    raw["customer"] = raw["CustomerID"].map(lambda v: None if pd.isna(v) else str(int(v)))
    raw["code"] = raw["Country"].map(country_code)
    return raw


# ---------------------------------------------------------------------- prod-shaped frames (what the copilot reads)


def _prod_frames(lines: pd.DataFrame, dimensions: list[str], measures: list[str], currency: str):
    """lines: date, country, category, sku, description, units, revenue, order_id, customer_id, cancel + attributes."""
    keys = ["date", "country", "sku", *dimensions]
    sale = lines[~lines["cancel"]]
    mart = lines.groupby(keys, dropna=False).agg(
        category=("category", "first"),
        description=("description", "last"),
        units=("units", "sum"),
        revenue_reporting=("revenue", "sum"),
        **{m: (m, "sum") for m in measures},
    )
    mart["orders"] = sale.groupby(keys, dropna=False)["order_id"].nunique().reindex(mart.index).fillna(0).astype(int)
    mart = mart.reset_index().assign(reporting_currency=currency)
    kpis = lines.groupby(["date", "country"]).agg(units=("units", "sum"), revenue_reporting=("revenue", "sum"))
    kpis["orders"] = sale.groupby(["date", "country"])["order_id"].nunique().reindex(kpis.index).fillna(0)
    kpis["customers"] = sale.groupby(["date", "country"])["customer_id"].nunique().reindex(kpis.index).fillna(0)
    orders = lines.groupby(["date", "order_id", "cancel"], as_index=False).agg(
        customer_id=("customer_id", "first"), country=("country", "first"), **{d: (d, "first") for d in dimensions}
    )
    orders = orders.rename(columns={"cancel": "is_cancellation"})
    return mart, kpis.reset_index(), orders


def superstore_frames(raw: pd.DataFrame):
    lines = pd.DataFrame(
        {
            "date": raw["day"],
            "country": "US",
            "category": raw["Category"],
            "sku": raw["Product Name"],
            "description": raw["Product Name"],
            "units": raw["Quantity"],
            "revenue": raw["sales"],
            "order_id": raw["Order ID"],
            "customer_id": raw["Customer Name"],
            "cancel": False,
            "profit": raw["profit"],
            "discount": raw["discount"],
        }
    )
    for source, name in SUPERSTORE_DIMENSIONS.items():
        lines[name] = raw[source]
    return _prod_frames(lines, list(SUPERSTORE_DIMENSIONS.values()), ["profit", "discount"], "USD")


def uci_frames(raw: pd.DataFrame):
    lines = pd.DataFrame(
        {
            "date": raw["day"],
            "country": raw["code"],
            "category": "unknown",
            "sku": raw["StockCode"],
            "description": raw["Description"],
            "units": raw["Quantity"],
            "revenue": raw["amount"],
            "order_id": raw["InvoiceNo"],
            "customer_id": raw["customer"],
            "cancel": raw["cancel"],
        }
    )
    return _prod_frames(lines, [], [], "GBP")


# ---------------------------------------------------------------------- golden helpers


def _groups(series: pd.Series) -> dict[str, float]:
    return {str(k): float(v) for k, v in series.items()}


def _ranking(series: pd.Series, n: int, ascending: bool = False) -> list[tuple[str, float]]:
    frame = series.rename("v").rename_axis("k").reset_index()
    frame["k"] = frame["k"].astype(str)
    frame = frame.sort_values(["v", "k"], ascending=[ascending, True]).head(n)
    return [(k, float(v)) for k, v in zip(frame["k"], frame["v"], strict=True)]


def _margin(frame: pd.DataFrame) -> float:
    return 100 * frame["profit"].sum() / frame["sales"].sum()


def _by_time(raw: pd.DataFrame, column: str, value: str, unit: str) -> dict[str, float]:
    labels = {
        "year": raw["day"].dt.year.astype(str),
        "quarter": raw["day"].dt.year.astype(str) + "-Q" + raw["day"].dt.quarter.astype(str),
        "month": raw["day"].dt.strftime("%Y-%m"),
    }[unit]
    return _groups(raw.groupby(labels)[value].sum())


# ---------------------------------------------------------------------- the banks


def superstore_cases(raw: pd.DataFrame) -> list[Case]:
    y = raw["day"].dt.year
    west, y17, y16 = raw[raw["Region"] == "West"], raw[y == 2017], raw[y == 2016]
    cases = [
        # distinct counts
        Case("How many customers are there?", "distinct", raw["Customer Name"].nunique(), check_value),
        Case("How many orders are there?", "distinct", raw["Order ID"].nunique(), check_value),
        Case("How many products are there?", "distinct", raw["Product Name"].nunique(), check_value),
        Case("How many countries do we sell in?", "distinct", raw["Country"].nunique(), check_value),
        Case("How many states are there?", "distinct", raw["State"].nunique(), check_value),
        Case("How many cities are there?", "distinct", raw["City"].nunique(), check_value),
        Case("How many sub categories are there?", "distinct", raw["Sub-Category"].nunique(), check_value),
        Case("How many customers in 2017?", "distinct", y17["Customer Name"].nunique(), check_value),
        Case("How many customers in the West region?", "distinct", west["Customer Name"].nunique(), check_value),
        Case(
            "How many orders in the Consumer segment?",
            "distinct",
            raw.loc[raw["Segment"] == "Consumer", "Order ID"].nunique(),
            check_value,
        ),
        Case(
            "Number of customers in California",
            "distinct",
            raw.loc[raw["State"] == "California", "Customer Name"].nunique(),
            check_value,
        ),
        Case("How many orders in 2016?", "distinct", y16["Order ID"].nunique(), check_value),
        Case(
            "How many customers in the Corporate segment last year?",
            "distinct",
            y16.loc[y16["Segment"] == "Corporate", "Customer Name"].nunique(),
            check_value,
        ),
        # group-bys
        Case("Revenue by year", "group-by", _by_time(raw, "day", "sales", "year"), check_groups),
        Case("Revenue by quarter in 2017", "group-by", _by_time(y17, "day", "sales", "quarter"), check_groups),
        Case("Revenue by month in 2016", "group-by", _by_time(y16, "day", "sales", "month"), check_groups),
        Case("Profit by year", "group-by", _by_time(raw, "day", "profit", "year"), check_groups),
        Case("Units by quarter in 2016", "group-by", _by_time(y16, "day", "Quantity", "quarter"), check_groups),
        Case("Revenue by region", "group-by", _groups(raw.groupby("Region")["sales"].sum()), check_groups),
        Case("Revenue by category", "group-by", _groups(raw.groupby("Category")["sales"].sum()), check_groups),
        Case("Revenue by segment", "group-by", _groups(raw.groupby("Segment")["sales"].sum()), check_groups),
        Case("Profit by region", "group-by", _groups(raw.groupby("Region")["profit"].sum()), check_groups),
        Case(
            "Profit by sub category in 2017",
            "group-by",
            _groups(y17.groupby("Sub-Category")["profit"].sum()),
            check_groups,
        ),
        Case("Units by ship mode", "group-by", _groups(raw.groupby("Ship Mode")["Quantity"].sum()), check_groups),
        Case(
            "Revenue by state in the West region",
            "group-by",
            _groups(west.groupby("State")["sales"].sum()),
            check_groups,
        ),
        Case(
            "Revenue by region in 2015",
            "group-by",
            _groups(raw[y == 2015].groupby("Region")["sales"].sum()),
            check_groups,
        ),
        Case(
            "Margin by category",
            "profit",
            _groups(raw.groupby("Category")[["profit", "sales"]].sum().pipe(lambda f: 100 * f.profit / f.sales)),
            check_groups,
        ),
        Case(
            "Profit margin by segment",
            "profit",
            _groups(raw.groupby("Segment")[["profit", "sales"]].sum().pipe(lambda f: 100 * f.profit / f.sales)),
            check_groups,
        ),
        Case(
            "Number of customers by region",
            "distinct",
            _groups(raw.groupby("Region")["Customer Name"].nunique()),
            check_groups,
        ),
        Case("Orders by segment", "distinct", _groups(raw.groupby("Segment")["Order ID"].nunique()), check_groups),
        # rankings
        Case(
            "Which region has the highest profit?",
            "top",
            _ranking(raw.groupby("Region")["profit"].sum(), 1),
            check_ranking,
        ),
        Case(
            "Top 5 sub categories by revenue",
            "top",
            _ranking(raw.groupby("Sub-Category")["sales"].sum(), 5),
            check_ranking,
        ),
        Case(
            "Top 3 states by profit in 2017",
            "top",
            _ranking(y17.groupby("State")["profit"].sum(), 3),
            check_ranking,
        ),
        Case(
            "Bottom 3 sub-categories by profit",
            "top",
            _ranking(raw.groupby("Sub-Category")["profit"].sum(), 3, ascending=True),
            check_ranking,
        ),
        Case(
            "Which segment had the most revenue last year?",
            "top",
            _ranking(y16.groupby("Segment")["sales"].sum(), 1),
            check_ranking,
        ),
        Case("Top 5 cities by revenue", "top", _ranking(raw.groupby("City")["sales"].sum(), 5), check_ranking),
        Case(
            "Which year had the highest revenue?",
            "top",
            _ranking(raw.groupby(y.astype(str))["sales"].sum(), 1),
            check_ranking,
        ),
        Case(
            "What was the most profitable category?",
            "top",
            _ranking(raw.groupby("Category")["profit"].sum(), 1),
            check_ranking,
        ),
        # totals over attributes
        Case("Revenue in the West region", "attribute", west["sales"].sum(), check_value),
        Case(
            "Profit in the Consumer segment in 2017",
            "attribute",
            y17.loc[y17["Segment"] == "Consumer", "profit"].sum(),
            check_value,
        ),
        Case("Total profit in 2016", "profit", y16["profit"].sum(), check_value),
        Case("What was the profit margin in 2017?", "profit", _margin(y17), check_value),
        Case("Margin in the South region", "profit", _margin(raw[raw["Region"] == "South"]), check_value),
        Case("Revenue in Texas last year", "attribute", y16.loc[y16["State"] == "Texas", "sales"].sum(), check_value),
        Case(
            "Units of Phones in the East region",
            "attribute",
            raw.loc[(raw["Sub-Category"] == "Phones") & (raw["Region"] == "East"), "Quantity"].sum(),
            check_value,
        ),
        Case(
            "Sales of Office Supplies in the Central region in Q4 2017",
            "attribute",
            y17.loc[
                (y17["Category"] == "Office Supplies") & (y17["Region"] == "Central") & (y17["day"].dt.quarter == 4),
                "sales",
            ].sum(),
            check_value,
        ),
        Case("Profit of Furniture", "profit", raw.loc[raw["Category"] == "Furniture", "profit"].sum(), check_value),
        Case(
            "Total discount in the Home Office segment",
            "attribute",
            raw.loc[raw["Segment"] == "Home Office", "discount"].sum(),
            check_value,
        ),
        # comparisons
        Case(
            "How did profit in 2017 compare with 2016?",
            "compare",
            y17["profit"].sum() - y16["profit"].sum(),
            check_value,
        ),
        Case(
            "Revenue in the West region in 2017 vs 2016",
            "compare",
            west.loc[west["day"].dt.year == 2017, "sales"].sum() - west.loc[west["day"].dt.year == 2016, "sales"].sum(),
            check_value,
        ),
        # follow-ups
        Case(
            "Revenue in the West region in 2017",
            "attribute",
            west.loc[west["day"].dt.year == 2017, "sales"].sum(),
            check_value,
            "ss-1",
        ),
        Case(
            "And in the East?",
            "follow-up",
            y17.loc[y17["Region"] == "East", "sales"].sum(),
            check_value,
            "ss-1",
        ),
        Case("What about profit?", "follow-up", y17.loc[y17["Region"] == "East", "profit"].sum(), check_value, "ss-1"),
        Case(
            "Break that down by segment",
            "follow-up",
            _groups(y17[y17["Region"] == "East"].groupby("Segment")["profit"].sum()),
            check_groups,
            "ss-1",
        ),
        # honest refusals
        Case("What were the costs of goods sold last year?", "refusal", None, check_refusal, kind="refusal"),
        Case("Revenue in Atlantis last year", "refusal", None, check_refusal, kind="refusal"),
        Case("Revenue in 2031", "refusal", None, check_refusal, kind="refusal"),
    ]
    return cases


def uci_cases(raw: pd.DataFrame) -> list[Case]:
    sale = raw[~raw["cancel"]]
    y11 = raw[raw["day"].dt.year == 2011]
    uk = raw[raw["code"] == "GB"]
    q4 = sale[(sale["day"] >= "2011-10-01") & (sale["day"] <= "2011-12-31")]
    month_units = y11.groupby(y11["day"].dt.strftime("%Y-%m"))["Quantity"].sum()
    quarter = y11.groupby(y11["day"].dt.year.astype(str) + "-Q" + y11["day"].dt.quarter.astype(str))["amount"].sum()
    return [
        Case("How many customers are there?", "distinct", sale["customer"].nunique(), check_value),
        Case(
            "How many customers in the United Kingdom?",
            "distinct",
            sale.loc[sale["code"] == "GB", "customer"].nunique(),
            check_value,
        ),
        Case("How many customers in Q4 2011?", "distinct", q4["customer"].nunique(), check_value),
        Case(
            "Number of customers in 2011",
            "distinct",
            sale.loc[sale["day"].dt.year == 2011, "customer"].nunique(),
            check_value,
        ),
        Case("How many orders are there?", "distinct", sale["InvoiceNo"].nunique(), check_value),
        Case(
            "How many orders in France?", "distinct", sale.loc[sale["code"] == "FR", "InvoiceNo"].nunique(), check_value
        ),
        Case("How many products are there?", "distinct", raw["StockCode"].nunique(), check_value),
        Case("How many countries are there?", "distinct", raw["code"].nunique(), check_value),
        Case("How many SKUs in Germany?", "distinct", raw.loc[raw["code"] == "DE", "StockCode"].nunique(), check_value),
        Case("Revenue by year", "group-by", _by_time(raw, "day", "amount", "year"), check_groups),
        Case("Revenue by quarter in 2011", "group-by", _groups(quarter), check_groups),
        Case("Revenue by month in 2011", "group-by", _by_time(y11, "day", "amount", "month"), check_groups),
        Case("Units by year", "group-by", _by_time(raw, "day", "Quantity", "year"), check_groups),
        Case(
            "Revenue by quarter in the United Kingdom",
            "group-by",
            _by_time(uk, "day", "amount", "quarter"),
            check_groups,
        ),
        Case("Revenue by country in 2011", "group-by", _groups(y11.groupby("code")["amount"].sum()), check_groups),
        Case(
            "Number of customers by country",
            "distinct",
            _groups(sale.groupby("code")["customer"].nunique()),
            check_groups,
        ),
        Case("Which quarter had the highest revenue in 2011?", "top", _ranking(quarter, 1), check_ranking),
        Case("Which month had the most units in 2011?", "top", _ranking(month_units, 1), check_ranking),
        Case("Top 5 countries by revenue", "top", _ranking(raw.groupby("code")["amount"].sum(), 5), check_ranking),
        Case(
            "How many customers in Germany?",
            "distinct",
            sale.loc[sale["code"] == "DE", "customer"].nunique(),
            check_value,
            "uci-1",
        ),
        Case("And in France?", "follow-up", sale.loc[sale["code"] == "FR", "customer"].nunique(), check_value, "uci-1"),
        Case("What was our profit last year?", "refusal", None, check_no_profit, kind="refusal"),
        Case("What is the margin by country?", "refusal", None, check_no_profit, kind="refusal"),
        Case("Which country is the most profitable?", "refusal", None, check_no_profit, kind="refusal"),
    ]

WITH norm_order_lines AS (
  SELECT
    "order_id",
    "line_no",
    "order_ts",
    "sku",
    "description",
    "quantity",
    "unit_price",
    "currency",
    "customer_id",
    "country",
    "is_cancellation",
    "promo_flag",
    "_source_key",
    "_source_row",
    "@profit",
    "@region",
    "@ship_date",
    "_date"
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY "order_id", "line_no" ORDER BY _source_key DESC, _source_row DESC) AS _version
    FROM (
      SELECT
        *,
        CAST(DATE_TRUNC('DAY', "order_ts") AS TIMESTAMP) AS _date
      FROM (
        SELECT
          CAST("order_id" AS VARCHAR) AS "order_id",
          TRY_CAST("line_no" AS DOUBLE) AS "line_no",
          TRY_CAST("order_ts" AS TIMESTAMP WITH TIME ZONE) AS "order_ts",
          CAST("sku" AS VARCHAR) AS "sku",
          CAST("description" AS VARCHAR) AS "description",
          TRY_CAST("quantity" AS DOUBLE) AS "quantity",
          TRY_CAST("unit_price" AS DOUBLE) AS "unit_price",
          CAST("currency" AS VARCHAR) AS "currency",
          CAST("customer_id" AS VARCHAR) AS "customer_id",
          CAST("country" AS VARCHAR) AS "country",
          TRY_CAST("is_cancellation" AS BOOLEAN) AS "is_cancellation",
          TRY_CAST("promo_flag" AS BOOLEAN) AS "promo_flag",
          COALESCE(CAST(_source_key AS VARCHAR), '') AS _source_key,
          COALESCE(TRY_CAST(_source_row AS BIGINT), -1) AS _source_row,
          CAST("profit" AS DOUBLE) AS "@profit",
          CAST("region" AS VARCHAR) AS "@region",
          CAST("ship_date" AS TIMESTAMP) AS "@ship_date"
        FROM "retail_platform_test"."curated_order_lines_run_r1"
      ) AS t
      WHERE
        CAST(DATE_TRUNC('DAY', "order_ts") AS TIMESTAMP) BETWEEN CAST('2024-02-29 00:00:00' AS TIMESTAMP) AND CAST('2024-04-06 00:00:00' AS TIMESTAMP)
    ) AS typed
  ) AS ranked
  WHERE
    _version = 1
), norm_orders AS (
  SELECT
    "order_id",
    "order_ts",
    "customer_id",
    "country",
    "currency",
    "channel",
    "status",
    "shipping_country",
    "notes",
    "_source_key",
    "_source_row",
    "_date"
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY "order_id" ORDER BY _source_key DESC, _source_row DESC) AS _version
    FROM (
      SELECT
        *,
        CAST(DATE_TRUNC('DAY', "order_ts") AS TIMESTAMP) AS _date
      FROM (
        SELECT
          CAST("order_id" AS VARCHAR) AS "order_id",
          TRY_CAST("order_ts" AS TIMESTAMP WITH TIME ZONE) AS "order_ts",
          CAST("customer_id" AS VARCHAR) AS "customer_id",
          CAST("country" AS VARCHAR) AS "country",
          CAST("currency" AS VARCHAR) AS "currency",
          CAST("channel" AS VARCHAR) AS "channel",
          CAST("status" AS VARCHAR) AS "status",
          CAST("shipping_country" AS VARCHAR) AS "shipping_country",
          CAST("notes" AS VARCHAR) AS "notes",
          COALESCE(CAST(_source_key AS VARCHAR), '') AS _source_key,
          COALESCE(TRY_CAST(_source_row AS BIGINT), -1) AS _source_row
        FROM "retail_platform_test"."curated_orders"
      ) AS t
      WHERE
        CAST(DATE_TRUNC('DAY', "order_ts") AS TIMESTAMP) BETWEEN CAST('2024-02-29 00:00:00' AS TIMESTAMP) AND CAST('2024-04-06 00:00:00' AS TIMESTAMP)
    ) AS typed
  ) AS ranked
  WHERE
    _version = 1
), norm_payments AS (
  SELECT
    "payment_id",
    "order_id",
    "customer_id",
    "payment_ts",
    "amount",
    "currency",
    "method",
    "card_number",
    "card_bin",
    "card_last4",
    "card_country",
    "billing_country",
    "shipping_country",
    "ip_country",
    "ip_address",
    "device_id",
    "email",
    "account_created_ts",
    "status",
    "is_fraud",
    "_source_key",
    "_source_row",
    "_date"
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY "payment_id" ORDER BY _source_key DESC, _source_row DESC) AS _version
    FROM (
      SELECT
        *,
        CAST(DATE_TRUNC('DAY', "payment_ts") AS TIMESTAMP) AS _date
      FROM (
        SELECT
          CAST("payment_id" AS VARCHAR) AS "payment_id",
          CAST("order_id" AS VARCHAR) AS "order_id",
          CAST("customer_id" AS VARCHAR) AS "customer_id",
          TRY_CAST("payment_ts" AS TIMESTAMP WITH TIME ZONE) AS "payment_ts",
          TRY_CAST("amount" AS DOUBLE) AS "amount",
          CAST("currency" AS VARCHAR) AS "currency",
          CAST("method" AS VARCHAR) AS "method",
          CAST("card_number" AS VARCHAR) AS "card_number",
          CAST("card_bin" AS VARCHAR) AS "card_bin",
          CAST("card_last4" AS VARCHAR) AS "card_last4",
          CAST("card_country" AS VARCHAR) AS "card_country",
          CAST("billing_country" AS VARCHAR) AS "billing_country",
          CAST("shipping_country" AS VARCHAR) AS "shipping_country",
          CAST("ip_country" AS VARCHAR) AS "ip_country",
          CAST("ip_address" AS VARCHAR) AS "ip_address",
          CAST("device_id" AS VARCHAR) AS "device_id",
          CAST("email" AS VARCHAR) AS "email",
          TRY_CAST("account_created_ts" AS TIMESTAMP WITH TIME ZONE) AS "account_created_ts",
          CAST("status" AS VARCHAR) AS "status",
          TRY_CAST("is_fraud" AS BOOLEAN) AS "is_fraud",
          COALESCE(CAST(_source_key AS VARCHAR), '') AS _source_key,
          COALESCE(TRY_CAST(_source_row AS BIGINT), -1) AS _source_row
        FROM "retail_platform_test"."curated_payments"
      ) AS t
      WHERE
        CAST(DATE_TRUNC('DAY', "payment_ts") AS TIMESTAMP) BETWEEN CAST('2024-02-29 00:00:00' AS TIMESTAMP) AND CAST('2024-04-06 00:00:00' AS TIMESTAMP)
    ) AS typed
  ) AS ranked
  WHERE
    _version = 1
), norm_prices AS (
  SELECT
    "date",
    "sku",
    "country",
    "price",
    "currency",
    "promo_flag",
    "competitor_price",
    "_source_key",
    "_source_row",
    "_date"
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY "date", "sku", "country" ORDER BY _source_key DESC, _source_row DESC) AS _version
    FROM (
      SELECT
        *,
        CAST(DATE_TRUNC('DAY', "date") AS TIMESTAMP) AS _date
      FROM (
        SELECT
          CAST(DATE_TRUNC('DAY', TRY_CAST("date" AS TIMESTAMP)) AS TIMESTAMP) AS "date",
          CAST("sku" AS VARCHAR) AS "sku",
          CAST("country" AS VARCHAR) AS "country",
          TRY_CAST("price" AS DOUBLE) AS "price",
          CAST("currency" AS VARCHAR) AS "currency",
          TRY_CAST("promo_flag" AS BOOLEAN) AS "promo_flag",
          TRY_CAST("competitor_price" AS DOUBLE) AS "competitor_price",
          COALESCE(CAST(_source_key AS VARCHAR), '') AS _source_key,
          COALESCE(TRY_CAST(_source_row AS BIGINT), -1) AS _source_row
        FROM "retail_platform_test"."curated_prices"
      ) AS t
      WHERE
        CAST(DATE_TRUNC('DAY', "date") AS TIMESTAMP) BETWEEN CAST('2024-02-29 00:00:00' AS TIMESTAMP) AND CAST('2024-04-06 00:00:00' AS TIMESTAMP)
    ) AS typed
  ) AS ranked
  WHERE
    _version = 1
), norm_inventory AS (
  SELECT
    "snapshot_date",
    "sku",
    "location",
    "on_hand",
    "on_order",
    "lead_time_days",
    "_source_key",
    "_source_row",
    "_date"
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (
        PARTITION BY "snapshot_date", "sku", "location"
        ORDER BY _source_key DESC, _source_row DESC
      ) AS _version
    FROM (
      SELECT
        *,
        CAST(DATE_TRUNC('DAY', "snapshot_date") AS TIMESTAMP) AS _date
      FROM (
        SELECT
          CAST(DATE_TRUNC('DAY', TRY_CAST("snapshot_date" AS TIMESTAMP)) AS TIMESTAMP) AS "snapshot_date",
          CAST("sku" AS VARCHAR) AS "sku",
          CAST("location" AS VARCHAR) AS "location",
          TRY_CAST("on_hand" AS DOUBLE) AS "on_hand",
          TRY_CAST("on_order" AS DOUBLE) AS "on_order",
          TRY_CAST("lead_time_days" AS DOUBLE) AS "lead_time_days",
          COALESCE(CAST(_source_key AS VARCHAR), '') AS _source_key,
          COALESCE(TRY_CAST(_source_row AS BIGINT), -1) AS _source_row
        FROM "retail_platform_test"."curated_inventory"
      ) AS t
      WHERE
        CAST(DATE_TRUNC('DAY', "snapshot_date") AS TIMESTAMP) BETWEEN CAST('2024-02-29 00:00:00' AS TIMESTAMP) AND CAST('2024-04-06 00:00:00' AS TIMESTAMP)
    ) AS typed
  ) AS ranked
  WHERE
    _version = 1
), norm_fx_rates AS (
  SELECT
    "date",
    "base_currency",
    "quote_currency",
    "rate",
    "_source_key",
    "_source_row",
    "_date"
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (
        PARTITION BY "date", "base_currency", "quote_currency"
        ORDER BY _source_key DESC, _source_row DESC
      ) AS _version
    FROM (
      SELECT
        *,
        CAST(DATE_TRUNC('DAY', "date") AS TIMESTAMP) AS _date
      FROM (
        SELECT
          CAST(DATE_TRUNC('DAY', TRY_CAST("date" AS TIMESTAMP)) AS TIMESTAMP) AS "date",
          CAST("base_currency" AS VARCHAR) AS "base_currency",
          CAST("quote_currency" AS VARCHAR) AS "quote_currency",
          TRY_CAST("rate" AS DOUBLE) AS "rate",
          COALESCE(CAST(_source_key AS VARCHAR), '') AS _source_key,
          COALESCE(TRY_CAST(_source_row AS BIGINT), -1) AS _source_row
        FROM "retail_platform_test"."curated_fx_rates"
      ) AS t
    ) AS typed
  ) AS ranked
  WHERE
    _version = 1
), norm_products AS (
  SELECT
    "sku",
    "description",
    "category",
    "brand",
    "base_price",
    "currency",
    "launch_date",
    "_source_key",
    "_source_row",
    "@supplier"
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY "sku" ORDER BY _source_key DESC, _source_row DESC) AS _version
    FROM (
      SELECT
        CAST("sku" AS VARCHAR) AS "sku",
        CAST("description" AS VARCHAR) AS "description",
        CAST("category" AS VARCHAR) AS "category",
        CAST("brand" AS VARCHAR) AS "brand",
        TRY_CAST("base_price" AS DOUBLE) AS "base_price",
        CAST("currency" AS VARCHAR) AS "currency",
        CAST(DATE_TRUNC('DAY', TRY_CAST("launch_date" AS TIMESTAMP)) AS TIMESTAMP) AS "launch_date",
        COALESCE(CAST(_source_key AS VARCHAR), '') AS _source_key,
        COALESCE(TRY_CAST(_source_row AS BIGINT), -1) AS _source_row,
        CAST("supplier" AS VARCHAR) AS "@supplier"
      FROM "retail_platform_test"."curated_products_run_r1"
    ) AS typed
  ) AS ranked
  WHERE
    _version = 1
), norm_customers AS (
  SELECT
    "customer_id",
    "signup_ts",
    "email",
    "country",
    "city",
    "postcode",
    "segment",
    "_source_key",
    "_source_row",
    "@tier",
    "_date"
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY "customer_id" ORDER BY _source_key DESC, _source_row DESC) AS _version
    FROM (
      SELECT
        *,
        CAST(DATE_TRUNC('DAY', "signup_ts") AS TIMESTAMP) AS _date
      FROM (
        SELECT
          CAST("customer_id" AS VARCHAR) AS "customer_id",
          TRY_CAST("signup_ts" AS TIMESTAMP WITH TIME ZONE) AS "signup_ts",
          CAST("email" AS VARCHAR) AS "email",
          CAST("country" AS VARCHAR) AS "country",
          CAST("city" AS VARCHAR) AS "city",
          CAST("postcode" AS VARCHAR) AS "postcode",
          CAST("segment" AS VARCHAR) AS "segment",
          COALESCE(CAST(_source_key AS VARCHAR), '') AS _source_key,
          COALESCE(TRY_CAST(_source_row AS BIGINT), -1) AS _source_row,
          CAST("tier" AS VARCHAR) AS "@tier"
        FROM "retail_platform_test"."curated_customers_run_r1"
      ) AS t
    ) AS typed
  ) AS ranked
  WHERE
    _version = 1
), facts AS (
  SELECT
    _date AS date,
    order_id,
    line_no,
    order_ts,
    sku,
    description,
    country,
    currency,
    customer_id,
    cancel AS is_cancellation,
    promo,
    qty,
    amount,
    CASE WHEN cancel THEN 0.0 ELSE qty END AS gross_qty,
    CASE WHEN cancel THEN 0.0 ELSE amount END AS gross_amount,
    CASE WHEN cancel THEN NULL ELSE order_id END AS sale_order,
    CASE WHEN cancel THEN NULL ELSE customer_id END AS sale_customer,
    CASE WHEN cancel THEN order_id ELSE NULL END AS cancel_order,
    ROW_NUMBER() OVER (PARTITION BY _date ORDER BY order_id, line_no, sku) AS _seq,
    "@profit",
    "@region",
    "@ship_date"
  FROM (
    SELECT
      *,
      COALESCE(is_cancellation, FALSE) AS cancel,
      COALESCE(promo_flag, FALSE) AS promo,
      COALESCE(quantity, 0.0) AS qty,
      COALESCE(quantity, 0.0) * COALESCE(unit_price, 0.0) AS amount
    FROM norm_order_lines
  ) AS l
), sold AS (
  SELECT
    date,
    sku,
    country,
    currency,
    CAST(SUM(CAST(qty AS DECIMAL(38, 10))) AS DOUBLE) AS units,
    CAST(SUM(CAST(gross_qty AS DECIMAL(38, 10))) AS DOUBLE) AS gross_units,
    CAST(SUM(CAST(amount AS DECIMAL(38, 10))) AS DOUBLE) AS revenue,
    CAST(SUM(CAST(gross_amount AS DECIMAL(38, 10))) AS DOUBLE) AS gross_revenue,
    BOOL_OR(promo) AS line_promo,
    COUNT(DISTINCT sale_order) AS orders,
    CAST(SUM(CAST("@profit" AS DECIMAL(38, 10))) AS DOUBLE) AS "@profit"
  FROM facts
  WHERE
    date BETWEEN CAST('2024-03-01 00:00:00' AS TIMESTAMP) AND CAST('2024-03-31 00:00:00' AS TIMESTAMP)
  GROUP BY
    date,
    sku,
    country,
    currency
), shelf AS (
  SELECT
    _date AS date,
    sku,
    country,
    currency,
    price,
    COALESCE(promo_flag, FALSE) AS price_promo
  FROM norm_prices
  WHERE
    _date BETWEEN CAST('2024-03-01 00:00:00' AS TIMESTAMP) AND CAST('2024-03-31 00:00:00' AS TIMESTAMP)
), stock AS (
  SELECT
    _date AS date,
    sku,
    location AS country,
    on_hand
  FROM norm_inventory
  WHERE
    _date BETWEEN CAST('2024-03-01 00:00:00' AS TIMESTAMP) AND CAST('2024-03-31 00:00:00' AS TIMESTAMP)
), sold_shelf AS (
  SELECT
    COALESCE(s.date, p.date) AS date,
    COALESCE(s.sku, p.sku) AS sku,
    COALESCE(s.country, p.country) AS country,
    COALESCE(s.currency, p.currency) AS currency,
    s."units",
    s."gross_units",
    s."revenue",
    s."gross_revenue",
    s."line_promo",
    s."orders",
    s."@profit",
    p.price,
    p.price_promo
  FROM sold AS s
  FULL OUTER JOIN shelf AS p
    ON s.date = p.date
    AND s.sku IS NOT DISTINCT FROM p.sku
    AND s.country IS NOT DISTINCT FROM p.country
    AND s.currency IS NOT DISTINCT FROM p.currency
), with_stock AS (
  SELECT
    COALESCE(s.date, p.date) AS date,
    COALESCE(s.sku, p.sku) AS sku,
    COALESCE(s.country, p.country) AS country,
    s.currency,
    s."units",
    s."gross_units",
    s."revenue",
    s."gross_revenue",
    s."line_promo",
    s."orders",
    s."@profit",
    s.price,
    s.price_promo,
    p.on_hand
  FROM sold_shelf AS s
  FULL OUTER JOIN stock AS p
    ON s.date = p.date
    AND s.sku IS NOT DISTINCT FROM p.sku
    AND s.country IS NOT DISTINCT FROM p.country
), country_currency AS (
  SELECT
    date,
    country,
    MIN(currency) AS currency
  FROM with_stock
  WHERE
    NOT currency IS NULL
  GROUP BY
    date,
    country
), ds_rows AS (
  SELECT
    w.date,
    w.sku,
    w.country,
    COALESCE(w.currency, c.currency) AS currency,
    COALESCE(w.units, 0.0) AS units,
    COALESCE(w.gross_units, 0.0) AS gross_units,
    COALESCE(w.revenue, 0.0) AS revenue,
    COALESCE(w.gross_revenue, 0.0) AS gross_revenue,
    COALESCE(w.orders, 0) AS orders,
    COALESCE(w.line_promo, FALSE) OR COALESCE(w.price_promo, FALSE) AS promo_flag,
    w.price,
    w.on_hand,
    w."@profit"
  FROM with_stock AS w
  LEFT JOIN country_currency AS c
    ON w.date = c.date AND w.country IS NOT DISTINCT FROM c.country
), fx_days AS (
  SELECT DISTINCT
    date
  FROM ds_rows
), fx_valid AS (
  SELECT
    date,
    base_currency AS base,
    quote_currency AS quote,
    rate
  FROM norm_fx_rates
  WHERE
    NOT rate IS NULL AND rate > 0 AND base_currency <> quote_currency
), fx_grid AS (
  SELECT
    d.date,
    p.base,
    p.quote,
    CAST(NULL AS DOUBLE) AS rate,
    1 AS is_day
  FROM fx_days AS d
  CROSS JOIN (
    SELECT DISTINCT
      base,
      quote
    FROM fx_valid
  ) AS p
  UNION ALL
  SELECT
    date,
    base,
    quote,
    rate,
    0 AS is_day
  FROM fx_valid
), fx_filled AS (
  SELECT
    date,
    base,
    quote,
    is_day,
    LAST_VALUE(rate) IGNORE NULLS OVER (
      PARTITION BY base, quote
      ORDER BY date, is_day
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS rate
  FROM fx_grid
), fx_wide AS (
  SELECT
    date,
    MAX(CASE WHEN base = 'EUR' AND quote = 'GBP' THEN rate END) AS r0,
    MAX(CASE WHEN base = 'EUR' AND quote = 'USD' THEN rate END) AS r1
  FROM fx_filled
  WHERE
    is_day = 1
  GROUP BY
    date
), factors AS (
  SELECT
    date,
    'EUR' AS currency,
    CAST(1.0 AS DOUBLE) AS factor
  FROM fx_days
  UNION ALL
  SELECT
    date,
    'GBP' AS currency,
    (
      CAST(1.0 AS DOUBLE) / r0
    ) AS factor
  FROM fx_wide
  UNION ALL
  SELECT
    date,
    'USD' AS currency,
    (
      CAST(1.0 AS DOUBLE) / r1
    ) AS factor
  FROM fx_wide
), mart AS (
  SELECT
    r.*,
    CASE
      WHEN r.gross_units > 0
      THEN CAST(r.gross_revenue AS DOUBLE) / r.gross_units
    END AS avg_price,
    CASE WHEN r.revenue = 0 THEN 0.0 ELSE r.revenue * x.factor END AS revenue_reporting,
    CASE WHEN r.on_hand IS NULL THEN NULL ELSE r.on_hand = 0 END AS stockout_flag,
    p."@supplier"
  FROM ds_rows AS r
  LEFT JOIN factors AS x
    ON x.date = r.date AND x.currency = r.currency
  LEFT JOIN norm_products AS p
    ON p.sku = r.sku
)
SELECT
  CAST(m."date" AS TIMESTAMP) AS "date",
  CAST(m."sku" AS VARCHAR) AS "sku",
  CAST(m."country" AS VARCHAR) AS "country",
  CAST(ROUND(m."units") AS BIGINT) AS "units",
  CAST(ROUND(m."gross_units") AS BIGINT) AS "gross_units",
  CAST(m."revenue" AS DOUBLE) AS "revenue",
  CAST(m."currency" AS VARCHAR) AS "currency",
  CAST(m."revenue_reporting" AS DOUBLE) AS "revenue_reporting",
  CAST('EUR' AS VARCHAR) AS reporting_currency,
  CAST(m."avg_price" AS DOUBLE) AS "avg_price",
  CAST(m."promo_flag" AS BOOLEAN) AS "promo_flag",
  CAST(m."price" AS DOUBLE) AS "price",
  CAST(ROUND(m."on_hand") AS BIGINT) AS "on_hand",
  CAST(m."stockout_flag" AS BOOLEAN) AS "stockout_flag",
  CAST(ROUND(m."orders") AS BIGINT) AS "orders",
  CAST(m."@profit" AS DOUBLE) AS "profit",
  CAST(m."@supplier" AS VARCHAR) AS "supplier",
  DATE_FORMAT(m.date, '%Y-%m') AS month
FROM mart AS m

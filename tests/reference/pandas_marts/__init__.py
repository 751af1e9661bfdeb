"""The prod marts as they were written in pandas before the SQL marts (`marts.sql`) replaced them.

Not shipped in any image: kept as an independent oracle that the SQL marts are compared with on real and
generated exports (tests/unit/test_curated_to_prod_sql.py), and as "today's pandas path" of the scaling
benchmark (tools/benchmarks/scaling.py).
"""

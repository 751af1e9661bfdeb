"""market-intelligence-hub: market forecasting (Prophet, ETS, SARIMAX, a global Keras model, baselines) and
trend analysis (STL, Mann-Kendall, HAC regression, changepoints, anomalies, price elasticity).

Plain modules that take dataframes; nothing here knows about Lambda.
"""

__version__ = "1.0.0"

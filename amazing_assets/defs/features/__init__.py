"""Features: one row per customer over the trailing window (user_features_rfm) and the month's
KPIs (monthly_kpis)."""

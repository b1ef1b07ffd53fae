"""Features' definitions: the per-customer window features and the month's KPIs."""

import dagster as dg

from amazing_assets.defs.features.assets import user_features_rfm
from amazing_assets.defs.features.kpi_assets import monthly_kpis


def definitions() -> dg.Definitions:
    return dg.Definitions(assets=[user_features_rfm, monthly_kpis])

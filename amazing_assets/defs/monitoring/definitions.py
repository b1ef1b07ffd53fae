"""Monitoring's definitions: the month's verdict and the alerts it lets through."""

import dagster as dg

from amazing_assets.defs.monitoring.assets import month_verdict, segment_alerts


def definitions() -> dg.Definitions:
    return dg.Definitions(assets=[month_verdict, segment_alerts])

"""Ingestion's definitions. Its landing sensor launches the cross-stage monthly job, so the code
location builds it (:func:`~.sensors.build_landing_sensor`) where that job is defined."""

import dagster as dg

from amazing_assets.defs.ingestion.assets import raw_events
from amazing_assets.defs.ingestion.erased_customers import erased_customers
from amazing_assets.defs.ingestion.rejected_events import rejected_events


def definitions() -> dg.Definitions:
    return dg.Definitions(assets=[raw_events, rejected_events, erased_customers])

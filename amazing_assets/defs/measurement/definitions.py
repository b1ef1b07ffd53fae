"""Measurement's definitions: audiences with control groups, and the outcomes of each export."""

import dagster as dg

from amazing_assets.defs.measurement.assets import (
    action_outcomes,
    audience_exports,
    outcomes_sensor,
)


def definitions() -> dg.Definitions:
    return dg.Definitions(assets=[audience_exports, action_outcomes], sensors=[outcomes_sensor])

"""Cleaning's definitions: clean_events and event_quarantine, one multi-asset."""

import dagster as dg

from amazing_assets.defs.cleaning.assets import clean_events


def definitions() -> dg.Definitions:
    return dg.Definitions(assets=[clean_events])

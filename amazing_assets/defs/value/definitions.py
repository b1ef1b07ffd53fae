"""Customer value's definitions."""

import dagster as dg

from amazing_assets.defs.value.assets import customer_value


def definitions() -> dg.Definitions:
    return dg.Definitions(assets=[customer_value])

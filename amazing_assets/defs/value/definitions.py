"""Customer value's definitions: the monthly purchase history and the models fitted on it."""

import dagster as dg

from amazing_assets.defs.value.assets import customer_value
from amazing_assets.defs.value.purchase_history import purchase_days


def definitions() -> dg.Definitions:
    return dg.Definitions(assets=[purchase_days, customer_value])

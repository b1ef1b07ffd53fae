"""A month's value result with nothing but its back-test and selection: what the quality
tables read (``defs/value/quality.py``), without fitting a model for the month itself."""

from __future__ import annotations

import pandas as pd

from amazing_assets.defs.value.backtest import BackTest, MonthValue
from amazing_assets.defs.value.value_selection import Selection


def judged_month(month: str, test: BackTest | None, selection: Selection) -> MonthValue:
    return MonthValue(
        month=month,
        predictions=pd.DataFrame(),
        parameters={},
        fitted_on=0,
        repeat_buyers=0,
        backend="C",
        repeat_ratio=1.0,
        back_test=test,
        selection=selection,
    )

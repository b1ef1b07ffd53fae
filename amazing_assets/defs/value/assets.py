"""``customer_value``: per pseudonymous buyer, P(alive), churn risk and the next 90 days' value.

The models read every month's purchase days up to the as-of month (``purchase_days``, a few
rows per buyer and month, :mod:`.purchase_history`), not the events, and are fitted on the
driver (:mod:`.models`). The whole history is read, not a trailing window: the models need each
buyer's first purchase and the time since. Earlier months are read from the warehouse, as
``user_features_rfm`` does, not declared as a partition mapping (one rejected month would
otherwise block every later month's value).
"""

from typing import Any

import dagster as dg
import pandas as pd

from amazing_assets.defs.value.backtest import MonthValue, deciles_markdown, month_value
from amazing_assets.defs.value.checks import VALUE_CHECK_SPECS, value_results
from amazing_assets.defs.value.models import (
    HORIZON_DAYS,
    empty_predictions,
    too_little_history,
)
from amazing_assets.defs.value.purchase_history import purchase_history
from amazing_assets.defs.value.quality import FOLDER, value_quality
from amazing_assets.defs.value.value_selection import selection_record, tracking_record
from amazing_assets.lib.asset_options import (
    markdown_table,
    monthly_asset_options,
    rejected,
    retry_only_transient,
    run_months,
)
from amazing_assets.lib.model_io_manager import FrameWithTables
from amazing_assets.lib.spark import SparkResource
from amazing_assets.lib.warehouse import WarehouseResource


@dg.asset(
    # 3: each month's back-test (or why there is none) is stored for the app (value_quality).
    **monthly_asset_options(code_version="3"),
    io_manager_key="model_io_manager",
    deps=["purchase_days", "user_features_rfm"],
    kinds={"pandas"},
    group_name="value",
    check_specs=VALUE_CHECK_SPECS,
)
@retry_only_transient
def customer_value(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, spark: SparkResource
):
    """Per buyer: P(alive), churn risk, expected purchases, order value and revenue (90 days);
    per month, the back-test that says how far to trust them (``value_quality/*``)."""
    spark.release_when_done(context)  # the fits run on the driver, beside no idle JVM
    months = run_months(context)
    days, history = purchase_history(warehouse, months[-1], log=context.log)
    if not history:
        raise rejected(f"customer_value {months}: no clean events up to {months[-1]}")
    frames, fits, skipped = [], {}, {}
    quality: dict[str, list[pd.DataFrame]] = {}
    for month in months:
        reason = too_little_history(days, month)
        if reason:  # an empty month, not a failure: the segments do not depend on it
            context.log.warning(f"customer_value {month}: not modelled, {reason}")
            skipped[month] = reason
            add_quality(quality, month, value_quality(month, days, history, None, reason))
            continue
        fit = month_value(days, month)
        fits[month] = fit
        add_quality(quality, month, value_quality(month, days, history, fit))
        frames.append(fit.predictions.assign(month=month))
        context.log.info(
            f"customer_value {month}: {fit.model} ({fit.selection.reason if fit.selection else ''}"
            f"), {len(fit.predictions):,} buyers, "
            f"expected 90-day revenue {fit.predictions['expected_revenue_90d'].sum():,.2f}, "
            f"mean churn risk {fit.predictions['churn_risk'].mean():.1%}"
            + (f", back-test lift@10% {fit.back_test.top_lift:.2f}" if fit.back_test else "")
        )
    output = (
        pd.concat(frames, ignore_index=True)
        if frames
        else empty_predictions().assign(month=pd.Series(dtype="string"))
    )
    metadata = value_metadata(fits, history, skipped)
    tables = {name: pd.concat(frames, ignore_index=True) for name, frames in quality.items()}
    yield dg.Output(FrameWithTables(output, FOLDER, tables), metadata=metadata)
    yield from value_results(fits, skipped)


def add_quality(
    quality: dict[str, list[pd.DataFrame]], month: str, tables: dict[str, pd.DataFrame]
) -> None:
    """Collect one month's ``value_quality`` tables, tagged with the month."""
    for name, frame in tables.items():
        quality.setdefault(name, []).append(frame.assign(month=month))


def value_metadata(
    fits: dict[str, MonthValue], history: list[str], skipped: dict[str, str]
) -> dict[str, Any]:
    """Fit, totals and, when history allows, the back-test of the run's last month."""
    if not fits:
        latest_skip = skipped[max(skipped)] if skipped else "no month of the run was modelled"
        return {
            # A month without enough buyers is an outcome, not a failure (read by the report).
            "status": "not_modelled",
            "reason": latest_skip,
            "buyers": 0,
            "history_months": dg.MetadataValue.json(history),
            "not_modelled": dg.MetadataValue.json(skipped),
        }
    latest = fits[max(fits)]
    predictions = latest.predictions
    metadata: dict[str, Any] = {
        "buyers": len(predictions),
        "purchase_model": latest.model,
        "model_selection": dg.MetadataValue.json(
            {m: selection_record(f.selection) for m, f in fits.items() if f.selection}
        ),
        "time_unit_of_parameters": "weeks",
        "history_months": dg.MetadataValue.json(history),
        "horizon_days": HORIZON_DAYS,
        "fitted_on_buyers": latest.fitted_on,
        "fit_backend": latest.backend,
        "repeat_buyers_in_fit": latest.repeat_buyers,
        "parameters": dg.MetadataValue.json({k: round(v, 4) for k, v in latest.parameters.items()}),
        "expected_revenue_90d": round(float(predictions["expected_revenue_90d"].sum()), 2),
        "mean_churn_risk": round(float(predictions["churn_risk"].mean()), 4),
        "repeat_ratio_in_sample": round(latest.repeat_ratio, 3),
        "not_modelled": dg.MetadataValue.json(skipped),
    }
    test = latest.back_test
    if test is None:
        metadata["back_test"] = dg.MetadataValue.md(
            "No back-test yet: it needs enough buyers in a month followed by three more months; "
            f"the model is the default: {latest.selection.reason if latest.selection else ''}"
        )
        return metadata
    summary = test.summary()
    metadata["back_test"] = dg.MetadataValue.md(
        markdown_table([summary], list(summary)) + "\n\n" + deciles_markdown(test)
    )
    # Tracking data for the app (a few dozen numbers: metadata, not a table; see the docs).
    metadata["tracking"] = dg.MetadataValue.json(tracking_record(test))
    metadata["back_test_top10_lift"] = round(test.top_lift, 2)
    metadata["back_test_purchase_ratio"] = round(float(test.purchase_ratio), 3)
    return metadata

"""``purchase_days``: each month's priced purchases per buyer and day, the value models' history.

The models need every buyer's whole purchase history, not a trailing window. Reading every
clean event of every earlier month each month would make month N of a backfill scan N months of
events (a year's backfill costs the square of its length). Instead each month is reduced once,
when it is materialised, to a few rows per buyer (``user_key``, ``day``, ``value``), and
``customer_value`` reads those small monthly summaries. The reduction is streamed with pyarrow
(four columns, purchases filtered batch by batch): no Spark job, memory bounded by the month's
purchases, not by its events.

A day belongs to the calendar month of its events, but an export may hold events dated outside
its month, so two monthly summaries can hold the same (buyer, day): :func:`combined_history`
adds them up, which makes the combined table what one pass over every event gives.
"""

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from amazing_assets.lib.asset_options import (
    monthly_asset_options,
    retry_only_transient,
    run_months,
)
from amazing_assets.lib.checks import result, spec
from amazing_assets.lib.delta_tables import (
    filtered_rows,
    month_row_counts,
    read_months,
    table_exists,
)
from amazing_assets.lib.storage import Location
from amazing_assets.lib.warehouse import WarehouseResource

PURCHASE_COLUMNS = ["user_key", "event_time", "event_type", "price"]
HISTORY_COLUMNS = ["user_key", "day", "value"]
SECONDS_PER_DAY = 86_400
PURCHASE_DAYS = "purchase_days"
HISTORY_CHECK_SPECS = [
    spec("one_row_per_buyer_day", PURCHASE_DAYS, "each (buyer, day) once, every value > 0"),
]


def empty_history() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_key": pd.Series(dtype="string"),
            "day": pd.Series(dtype="int32"),
            "value": pd.Series(dtype="float64"),
        }
    )


def month_purchase_days(clean_events: Location, month: str) -> pd.DataFrame:
    """``month``'s priced purchases per (``user_key``, ``day``), ``value`` summed, unrounded.

    ``day`` counts days since 1970-01-01 (UTC), as in the models. Only priced purchases count
    (a price-0 purchase is no revenue, as in the KPIs).
    """
    wanted = (pc.field("event_type") == "purchase") & (pc.field("price") > 0)
    purchases = filtered_rows(clean_events, [month], wanted, PURCHASE_COLUMNS, [])
    if purchases.num_rows == 0:
        return empty_history()
    seconds = pc.cast(pc.cast(purchases["event_time"], pa.timestamp("s", "UTC")), pa.int64())
    day = pc.cast(pc.floor(pc.divide(pc.cast(seconds, pa.float64()), SECONDS_PER_DAY)), pa.int32())
    grouped = (
        pa.table({"user_key": purchases["user_key"], "day": day, "price": purchases["price"]})
        .group_by(["user_key", "day"])
        .aggregate([("price", "sum")])
        .rename_columns(HISTORY_COLUMNS)
    )
    return grouped.to_pandas().sort_values(["user_key", "day"], ignore_index=True)


def combined_history(monthly: pd.DataFrame) -> pd.DataFrame:
    """Monthly summaries → one row per (``user_key``, ``day``), ``value`` rounded to cents: the
    table ``purchase_days_spark`` gives over every event, which the models read."""
    if monthly.empty:
        return empty_history()
    out = monthly.groupby(["user_key", "day"], as_index=False, sort=True)["value"].sum()
    out["value"] = out["value"].round(2)
    return out


def purchase_history(
    warehouse: WarehouseResource, up_to: str, log=None
) -> tuple[pd.DataFrame, list[str]]:
    """The combined purchase days of every month with clean events up to ``up_to``, and those
    months. A month whose summary is not stored yet (a warehouse older than this table) is
    reduced from its clean events on the spot, so the history is never silently short."""
    clean = warehouse.table("clean_events")
    counts = month_row_counts(clean) if table_exists(clean) else {}
    history = sorted(m for m, rows in counts.items() if rows and m <= up_to)
    location = warehouse.table(PURCHASE_DAYS)
    stored_months = set(month_row_counts(location)) if table_exists(location) else set()
    frames = []
    if stored_months & set(history):
        stored = sorted(stored_months & set(history))
        frames.append(read_months(location, stored, columns=HISTORY_COLUMNS).to_pandas())
    for month in history:
        if month not in stored_months:
            if log is not None:
                log.info(f"purchase_days {month}: not stored, reduced from clean_events")
            frames.append(month_purchase_days(clean, month))
    monthly = pd.concat(frames, ignore_index=True) if frames else empty_history()
    return combined_history(monthly), history


@dg.asset(
    **monthly_asset_options(code_version="1"),
    io_manager_key="model_io_manager",
    deps=["clean_events"],
    kinds={"pandas", "delta"},
    group_name="value",
    check_specs=HISTORY_CHECK_SPECS,
)
@retry_only_transient
def purchase_days(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Each buyer's priced purchase days of the month: the compact history of the value models."""
    clean = warehouse.table("clean_events")
    frames = []
    for month in run_months(context):
        days = month_purchase_days(clean, month) if table_exists(clean) else empty_history()
        context.log.info(
            f"purchase_days {month}: {len(days):,} purchase days of "
            f"{days['user_key'].nunique():,} buyers"
        )
        frames.append(days.assign(month=month))
    output = pd.concat(frames, ignore_index=True)
    duplicated = int(output.duplicated(["month", "user_key", "day"]).sum())
    not_positive = int((output["value"] <= 0).sum())
    yield dg.Output(
        output,
        metadata={"purchase_days": len(output), "buyers": int(output["user_key"].nunique())},
    )
    yield result(
        PURCHASE_DAYS,
        "one_row_per_buyer_day",
        duplicated == 0 and not_positive == 0,
        {"duplicated_rows": duplicated, "values_not_positive": not_positive},
    )

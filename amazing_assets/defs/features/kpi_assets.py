"""``monthly_kpis``: the month's business figures, the Panel app's overview headline."""

import dagster as dg
import pandas as pd
from pyspark.sql import DataFrame

from amazing_assets.defs.features.kpis import KPI_COLUMNS
from amazing_assets.defs.features.kpis import monthly_kpis as compute_kpis
from amazing_assets.lib.asset_options import (
    markdown_table,
    monthly_asset_options,
    retry_only_transient,
    run_months,
)
from amazing_assets.lib.checks import result, spec

KPIS = "monthly_kpis"
KPI_CHECK_SPECS = [
    spec("kpis_consistent", KPIS, "purchasers ≤ customers, orders ≥ purchasers, revenue ≥ 0"),
]


def consistent(row: pd.Series) -> bool:
    return bool(
        0 <= row.purchasers <= row.customers
        and row.orders >= row.purchasers
        and row.revenue >= 0
        and (row.orders == 0) == (row.purchasers == 0)
    )


@dg.asset(
    **monthly_asset_options(code_version="1"),
    io_manager_key="model_io_manager",
    kinds={"spark", "pandas"},
    group_name="reporting",
    check_specs=KPI_CHECK_SPECS,
    # clean_events writes its own table; the Spark IO manager only reads it here.
    ins={"clean_events": dg.AssetIn(input_manager_key="spark_delta_io_manager")},
)
@retry_only_transient
def monthly_kpis(context: dg.AssetExecutionContext, clean_events: DataFrame):
    """Customers, purchasers, revenue, orders and average order value of each month."""
    months = run_months(context)
    kpis: pd.DataFrame = compute_kpis(clean_events).toPandas()
    missing = sorted(set(months) - set(kpis["month"]))
    # A month without clean events still gets a row: zero activity is a figure, not a gap.
    zeros = pd.DataFrame([{"month": m, **dict.fromkeys(KPI_COLUMNS, 0)} for m in missing])
    kpis = pd.concat([kpis, zeros], ignore_index=True) if missing else kpis
    kpis = kpis.astype({c: "int64" for c in KPI_COLUMNS if c not in ("revenue", "avg_order_value")})
    kpis = kpis.astype({"revenue": "float64", "avg_order_value": "float64"})
    kpis = kpis.sort_values("month").reset_index(drop=True)
    for row in kpis.itertuples():
        context.log.info(
            f"monthly_kpis {row.month}: {row.customers:,} customers, {row.purchasers:,} "
            f"purchasers, {row.orders:,} orders, revenue {row.revenue:,.2f}"
        )
    yield dg.Output(
        kpis,
        metadata={
            "kpis": dg.MetadataValue.md(
                markdown_table(kpis.to_dict("records"), ["month", *KPI_COLUMNS])
            )
        },
    )
    bad = [r.month for _, r in kpis.iterrows() if not consistent(r)]
    yield result(KPIS, "kpis_consistent", not bad, {"inconsistent_months": bad})

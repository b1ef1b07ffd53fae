"""Read-only access to the warehouse for the app, cached per server process with ``pn.cache``.

Every read goes through :mod:`amazing_assets.lib` (deltalake/pyarrow, local or S3): no Spark, no
Dagster. Readers take the warehouse URI (a string, so the cache can key on it) and only ever read.
Caches expire after :data:`CACHE_SECONDS` so a month re-materialised by the pipeline shows up
without restarting the app.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import panel as pn
import pyarrow as pa
import pyarrow.compute as pc

from amazing_assets.defs.features.kpis import KPI_COLUMNS
from amazing_assets.defs.segments.explain import CUSTOMER_COLUMNS
from amazing_assets.defs.segments.migration import GONE, NEW
from amazing_assets.defs.segments.prediction import SegmentPredictor, load_predictor
from amazing_assets.defs.value.value_models import NO_PURCHASE_HORIZONS
from amazing_assets.lib.delta_tables import (
    filtered_rows,
    month_row_counts,
    read_months,
    scan_months,
    table_exists,
)
from amazing_assets.lib.pseudonymize import Pseudonymizer, existing_key
from amazing_assets.lib.storage import Location
from amazing_assets.lib.tables import table_location
from panel_app.colours import identity_colours

CACHE_SECONDS = 300
PROFILES = "cluster_profiles"
ASSIGNMENTS = "kmeans_model/assignments"
COORDINATES = "pca_embedding/coordinates"
KPIS = "monthly_kpis"
MIGRATION = "segment_migration"
VALUE = "customer_value"
VERDICT = "month_verdict"
SEGMENTATION_OUTCOMES = "kmeans_model/outcome"
VALUE_FIELDS = [
    "user_key",
    "p_alive",
    "churn_risk",
    "expected_purchases_90d",
    "expected_order_value",
    "expected_revenue_90d",
    *(f"p_no_purchase_{days}d" for days in NO_PURCHASE_HORIZONS),
]
TREND_PROFILE_COLUMNS = [
    "month",
    "segment",
    "segment_id",  # identity across months (issue 25); missing in months stored before it
    "definition_moved",
    "name",
    "name_fr",
    "size",
    "share",
    "revenue_share",
    "churn_risk",
    "expected_revenue_90d",
]


def table(warehouse_uri: str, name: str) -> Location:
    """Table ``name``, placed as the pipeline places it (``amazing_assets.lib.tables``)."""
    return table_location(Location.parse(warehouse_uri, setting="AMAZING_WAREHOUSE"), name)


@pn.cache(ttl=CACHE_SECONDS)
def available_months(warehouse_uri: str) -> list[str]:
    """Ingested months with named segments, newest last (read from the commit logs only).

    A backfill also refreshes the trailing-window features (and segments) of the months after
    the ones it ingested; those months have no events of their own yet, so no KPIs, and are
    not shown until they are ingested.
    """
    location = table(warehouse_uri, PROFILES)
    if not table_exists(location):
        return []
    months = [m for m, rows in month_row_counts(location).items() if rows]
    kpis = table(warehouse_uri, KPIS)
    if table_exists(kpis):
        ingested = {m for m, rows in month_row_counts(kpis).items() if rows}
        months = [m for m in months if m in ingested]
    return months


@pn.cache(ttl=CACHE_SECONDS)
def not_segmented_months(warehouse_uri: str) -> dict[str, dict[str, str]]:
    """Ingested months the pipeline did not segment, oldest first: month → reason and what is
    needed (``kmeans_model``'s stored outcome; a degenerate month is an outcome, not an error).

    These months are not in :func:`available_months` (they have no segment to show); the app
    says why instead of leaving them out silently.
    """
    location = table(warehouse_uri, SEGMENTATION_OUTCOMES)
    if not table_exists(location):
        return {}
    frame = read_months(location, columns=["month", "status", "reason", "needed"]).to_pandas()
    frame = frame[frame["status"] != "segmented"]
    kpis = table(warehouse_uri, KPIS)
    if table_exists(kpis):
        ingested = {m for m, rows in month_row_counts(kpis).items() if rows}
        frame = frame[frame["month"].isin(ingested)]
    shown = set(available_months(warehouse_uri))
    return {
        row["month"]: {"reason": str(row["reason"]), "needed": str(row["needed"])}
        for row in frame.sort_values("month").to_dict("records")
        if row["month"] not in shown
    }


@pn.cache(ttl=CACHE_SECONDS)
def profiles(warehouse_uri: str, month: str) -> pd.DataFrame:
    frame = read_months(table(warehouse_uri, PROFILES), [month]).to_pandas()
    return frame.sort_values("size", ascending=False).reset_index(drop=True)


@pn.cache(ttl=CACHE_SECONDS)
def kpis(warehouse_uri: str, month: str) -> dict[str, float] | None:
    """The month's KPIs, or None when ``monthly_kpis`` was not materialised for it."""
    location = table(warehouse_uri, KPIS)
    if not table_exists(location):
        return None
    rows = read_months(location, [month], columns=list(KPI_COLUMNS)).to_pylist()
    return rows[0] if rows else None


@pn.cache(ttl=CACHE_SECONDS)
def kpi_history(warehouse_uri: str) -> pd.DataFrame:
    """Every shown month's KPIs, oldest first (a row per month: tiny)."""
    location = table(warehouse_uri, KPIS)
    months = available_months(warehouse_uri)
    if not table_exists(location) or not months:
        return pd.DataFrame(columns=["month", *KPI_COLUMNS])
    frame = read_months(location, months, columns=["month", *KPI_COLUMNS]).to_pandas()
    return frame.sort_values("month").reset_index(drop=True)


@pn.cache(ttl=CACHE_SECONDS)
def profile_history(warehouse_uri: str) -> pd.DataFrame:
    """Every shown month's segments (names, sizes, shares, value), oldest first.

    Months profiled before ``customer_value`` existed lack its columns: they read as missing.
    """
    months = available_months(warehouse_uri)
    if not months:
        return pd.DataFrame(columns=TREND_PROFILE_COLUMNS)
    frame = read_months(table(warehouse_uri, PROFILES), months).to_pandas()
    frame = frame.reindex(columns=TREND_PROFILE_COLUMNS)
    return frame.sort_values(["month", "size"], ascending=[True, False]).reset_index(drop=True)


@pn.cache(ttl=CACHE_SECONDS)
def month_verdict(warehouse_uri: str, month: str) -> pd.DataFrame | None:
    """The month's verdict rows (one per aspect), or None when ``month_verdict`` was not
    materialised for it (a warehouse written before the verdict existed)."""
    location = table(warehouse_uri, VERDICT)
    if not table_exists(location):
        return None
    frame = read_months(location, [month]).to_pandas()
    return frame if len(frame) else None


def identities(frame: pd.DataFrame) -> pd.Series:
    """Each row's segment identity: ``segment_id``, or the segment number in months stored
    before segments had an identity (as ``identity_migration`` reads them)."""
    if "segment_id" not in frame:
        return frame["segment"].astype(int)
    return frame["segment_id"].fillna(frame["segment"]).astype(int)


@pn.cache(ttl=CACHE_SECONDS)
def segment_colours(warehouse_uri: str) -> dict[int, str]:
    """Segment id → colour over every shown month (:mod:`panel_app.colours`): the one mapping
    every page's charts, legends and table swatches use."""
    history = profile_history(warehouse_uri)
    if history.empty:
        return {}
    ids = history.assign(identity=identities(history))
    return identity_colours(ids.groupby("month")["identity"].agg(list))


def has_value(warehouse_uri: str, month: str) -> bool:
    location = table(warehouse_uri, VALUE)
    return table_exists(location) and bool(month_row_counts(location).get(month))


@pn.cache(ttl=CACHE_SECONDS, max_items=3)
def customer_values(warehouse_uri: str, month: str) -> pd.DataFrame:
    """The month's predictions per buyer with their segment number (Arrow join on the key)."""
    values = read_months(table(warehouse_uri, VALUE), [month], columns=VALUE_FIELDS)
    segments = read_months(
        table(warehouse_uri, ASSIGNMENTS), [month], columns=["user_key", "segment"]
    )
    joined = values.join(segments, "user_key", join_type="left outer")
    return joined.to_pandas()


def top_customers(values: pd.DataFrame, share: float = 0.1) -> pd.DataFrame:
    """The top ``share`` of buyers by expected 90-day revenue, best first."""
    count = max(1, round(len(values) * share)) if len(values) else 0
    return values.nlargest(count, "expected_revenue_90d").reset_index(drop=True)


def at_risk(values: pd.DataFrame, segment: int, threshold: float = 0.5) -> pd.DataFrame:
    """A segment's buyers whose churn risk is at least ``threshold``, most valuable first."""
    chosen = values[(values["segment"] == segment) & (values["churn_risk"] >= threshold)]
    return chosen.sort_values("expected_revenue_90d", ascending=False).reset_index(drop=True)


def keys_csv(frame: pd.DataFrame, columns: list[str]) -> str:
    """A CSV of pseudonymous keys and figures (never a raw id: the tables hold none)."""
    buffer = io.StringIO()
    frame[columns].round(4).to_csv(buffer, index=False)
    return buffer.getvalue()


def value_of(warehouse_uri: str, user_key: str, month: str) -> dict[str, float] | None:
    """One customer's predictions for ``month``, or None (no purchase known by then).

    Not cached: the argument is a customer's token, which must not linger in a cache.
    """
    location = table(warehouse_uri, VALUE)
    if not table_exists(location):
        return None
    rows = filtered_rows(location, [month], pc.field("user_key") == user_key, VALUE_FIELDS, [])
    return rows.to_pylist()[0] if rows.num_rows else None


@pn.cache(ttl=CACHE_SECONDS, max_items=3)
def embedding(warehouse_uri: str, month: str) -> pd.DataFrame:
    """Each customer's first two PCA coordinates and segment number (float32: 12 B/customer).

    Joined in Arrow (hash join on the key, 0.2 s for 1 M customers; pandas' merge of the same
    string keys took 2 s).
    """
    coordinates = read_months(
        table(warehouse_uri, COORDINATES), [month], columns=["user_key", "pc_1", "pc_2"]
    )
    segments = read_months(
        table(warehouse_uri, ASSIGNMENTS), [month], columns=["user_key", "segment"]
    )
    joined = coordinates.join(segments, "user_key", join_type="inner")
    return pd.DataFrame(
        {
            "pc_1": joined["pc_1"].to_numpy().astype(np.float32),
            "pc_2": joined["pc_2"].to_numpy().astype(np.float32),
            "segment": joined["segment"].to_numpy().astype(np.int16),
        }
    )


@pn.cache(ttl=CACHE_SECONDS)
def migration(warehouse_uri: str, month: str) -> pd.DataFrame:
    location = table(warehouse_uri, MIGRATION)
    if not table_exists(location):
        return pd.DataFrame(columns=["from_name", "to_name", "customers"])
    frame = read_months(location, [month]).to_pandas()
    return frame.drop(columns="month")


@pn.cache(ttl=CACHE_SECONDS, max_items=12)
def predictor(warehouse_uri: str, month: str, key_file: Path | None = None) -> SegmentPredictor:
    """The month's model, signature- and integrity-checked once, then answering in milliseconds
    (the signing key derives from the pipeline's key, as the customer lookup's does)."""
    return load_predictor(
        Location.parse(warehouse_uri, setting="AMAZING_WAREHOUSE"), month, key_file
    )


def segment_history(warehouse_uri: str, user_key: str) -> pd.DataFrame:
    """Every month's segment (number and names) of one pseudonymous customer, oldest first.

    Not cached: the argument is a customer's token, which must not linger in a cache.
    """
    assignments = read_months(
        table(warehouse_uri, ASSIGNMENTS), columns=["month", "user_key", "segment"]
    )
    rows = assignments.filter(pc.equal(assignments["user_key"], user_key)).to_pandas()
    if rows.empty:
        return pd.DataFrame(columns=["month", "segment", "name", "name_fr"])
    names = read_months(
        table(warehouse_uri, PROFILES),
        sorted(set(rows["month"])),
        columns=["month", "segment", "name", "name_fr"],
    ).to_pandas()
    history = rows.drop(columns="user_key").merge(names, on=["month", "segment"], how="left")
    return history.sort_values("month").reset_index(drop=True)


def pseudonymizer(key_file: Path | None) -> Pseudonymizer:
    """The pipeline's keyed hash (the key from the environment, or the embedded default file)."""
    return Pseudonymizer(existing_key(key_file))


def previous_month(months: list[str], month: str) -> str | None:
    index = months.index(month)
    return months[index - 1] if index > 0 else None


def migration_labels(
    flows: pd.DataFrame, names: dict[str, str], before: str, after: str, new: str, gone: str
) -> pd.DataFrame:
    """Flows with translated names, made acyclic for a Sankey: each side carries its month."""

    def side(name: str, month: str) -> str:
        if name == NEW:
            return new
        if name == GONE:
            return gone
        return f"{names.get(name, name)} · {month}"

    return pd.DataFrame(
        {
            "source": [side(n, before) for n in flows["from_name"]],
            "target": [side(n, after) for n in flows["to_name"]],
            "customers": flows["customers"].astype(int),
        }
    )


AUDIENCES = "audience_exports"
EXPORT_LOG = "audience_export_log"
ACTION_OUTCOMES = "action_outcomes"
AUDIENCE_CSV_COLUMNS = ["export_id", "user_key", "group"]


@pn.cache(ttl=CACHE_SECONDS)
def export_entry(warehouse_uri: str, month: str, segment: int) -> dict | None:
    """The pipeline's record of the segment's export for ``month`` (sizes, share, id), or None
    when ``audience_exports`` was not materialised for it."""
    location = table(warehouse_uri, EXPORT_LOG)
    if not table_exists(location):
        return None
    rows = scan_months(location, [month]).to_table(filter=pc.field("segment") == segment)
    return rows.to_pylist()[0] if rows.num_rows else None


@pn.cache(ttl=CACHE_SECONDS)
def audience_csv(warehouse_uri: str, month: str, segment: int) -> str:
    """The segment's audience as the pipeline recorded it: ``export_id,user_key,group`` per
    customer, controls included and marked (the app writes nothing: it serves the record)."""
    rows = scan_months(table(warehouse_uri, AUDIENCES), [month]).to_table(
        columns=AUDIENCE_CSV_COLUMNS, filter=pc.field("segment") == segment
    )
    buffer = io.StringIO()
    rows.to_pandas().sort_values("user_key").to_csv(buffer, index=False)
    return buffer.getvalue()


@pn.cache(ttl=CACHE_SECONDS)
def outcomes(warehouse_uri: str, month: str) -> pd.DataFrame:
    """``action_outcomes`` of the month's exports (empty when never measured)."""
    location = table(warehouse_uri, ACTION_OUTCOMES)
    if not table_exists(location):
        return pd.DataFrame()
    frame = read_months(location, [month]).to_pandas()
    return frame.sort_values("targets", ascending=False).reset_index(drop=True)


FEATURES = "user_features_rfm"


@pn.cache(ttl=CACHE_SECONDS)
def feature_maxima(warehouse_uri: str, month: str, columns: tuple[str, ...]) -> dict[str, float]:
    """The month's highest value of each feature column (the prediction form's bounds).

    Empty when the features table is missing (the form then checks signs and types only).
    """
    return feature_statistic(warehouse_uri, month, columns, pc.max)


@pn.cache(ttl=CACHE_SECONDS, max_items=3)
def segment_customers(warehouse_uri: str, month: str, segment: int) -> pd.DataFrame:
    """Every customer of a segment with their value figures (empty for those who never bought),
    sorted by key: the rows of the segment's campaign export."""
    assignments = scan_months(table(warehouse_uri, ASSIGNMENTS), [month])
    keys = assignments.to_table(
        columns=["user_key", "segment"], filter=pc.field("segment") == segment
    )
    if has_value(warehouse_uri, month):
        values = read_months(table(warehouse_uri, VALUE), [month], columns=VALUE_FIELDS)
        keys = keys.join(values, "user_key", join_type="left outer")
    return keys.to_pandas().sort_values("user_key").reset_index(drop=True)


def customer_features(warehouse_uri: str, user_key: str, month: str) -> dict[str, float] | None:
    """One customer's per-user features for ``month``, or None (no activity in the window).

    Not cached: the argument is a customer's token, which must not linger in a cache.
    """
    location = table(warehouse_uri, FEATURES)
    if not table_exists(location):
        return None
    columns = ["user_key", *CUSTOMER_COLUMNS]
    rows = filtered_rows(location, [month], pc.field("user_key") == user_key, columns, [])
    return rows.to_pylist()[0] if rows.num_rows else None


@pn.cache(ttl=CACHE_SECONDS)
def feature_medians(warehouse_uri: str, month: str) -> dict[str, float]:
    """The month's median customer, feature by feature (what "all customers" means on the
    lookup's explanation); empty when the features table is missing."""
    return feature_statistic(warehouse_uri, month, CUSTOMER_COLUMNS, pc.approximate_median)


def feature_statistic(
    warehouse_uri: str,
    month: str,
    columns: tuple[str, ...],
    statistic: Callable[[pa.ChunkedArray], pa.Scalar],
) -> dict[str, float]:
    """One statistic of each feature column over the month's customers; a column with no value
    is left out, and a missing features table gives an empty dict."""
    location = table(warehouse_uri, FEATURES)
    if not table_exists(location):
        return {}
    features = read_months(location, [month], columns=list(columns))
    out = {}
    for column in columns:
        value = statistic(features[column]).as_py()
        if value is not None:
            out[column] = float(value)
    return out


# Model quality (issue 27): what kmeans_model and customer_value stored about their own quality.
SEGMENT_QUALITY = "kmeans_model/quality"
SEGMENT_QUALITY_TIERS = "kmeans_model/quality_tiers"
SEGMENT_QUALITY_SEGMENTS = "kmeans_model/quality_segments"
VALUE_BACKTEST = "value_quality/backtest"
VALUE_DECILES = "value_quality/deciles"


def _month_frame(warehouse_uri: str, name: str, month: str) -> pd.DataFrame | None:
    """A quality table's rows for ``month`` (without ``month``), or None when the table was
    never written (a warehouse older than it)."""
    location = table(warehouse_uri, name)
    if not table_exists(location):
        return None
    return read_months(location, [month]).to_pandas().drop(columns="month")


@pn.cache(ttl=CACHE_SECONDS)
def segment_quality(warehouse_uri: str, month: str) -> dict[str, pd.DataFrame] | None:
    """The month's segmentation quality: ``summary`` (one row), ``tiers``, ``segments``; None
    when ``kmeans_model`` stored none for the month."""
    summary = _month_frame(warehouse_uri, SEGMENT_QUALITY, month)
    if summary is None or summary.empty:
        return None
    tiers = _month_frame(warehouse_uri, SEGMENT_QUALITY_TIERS, month)
    segments = _month_frame(warehouse_uri, SEGMENT_QUALITY_SEGMENTS, month)
    return {
        "summary": summary,
        "tiers": tiers if tiers is not None else pd.DataFrame(),
        "segments": segments.sort_values("segment") if segments is not None else pd.DataFrame(),
    }


@pn.cache(ttl=CACHE_SECONDS)
def value_quality(warehouse_uri: str, month: str) -> tuple[dict | None, pd.DataFrame]:
    """The month's value back-test row (status, figures; None when never stored) and its
    calibration by decile (empty unless measured)."""
    row = _month_frame(warehouse_uri, VALUE_BACKTEST, month)
    deciles = _month_frame(warehouse_uri, VALUE_DECILES, month)
    deciles = deciles.sort_values("decile") if deciles is not None else pd.DataFrame()
    if row is None or row.empty:
        return None, deciles
    return row.to_dict("records")[0], deciles.reset_index(drop=True)

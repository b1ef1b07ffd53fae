"""The monthly partitions shared by every asset, and month-key helpers."""

from __future__ import annotations

import dagster as dg
from dagster._core.storage import tags as dagster_tags

FIRST_MONTH = "2019-10-01"
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=FIRST_MONTH)

# The run tags that say which months a run covers: one partition, or a single-run range.
PARTITION_TAG = dagster_tags.PARTITION_NAME_TAG
RANGE_START_TAG = dagster_tags.ASSET_PARTITION_RANGE_START_TAG
RANGE_END_TAG = dagster_tags.ASSET_PARTITION_RANGE_END_TAG


def month_of(partition_key: str) -> str:
    """``2019-10-01`` (Dagster's month key) → ``2019-10`` (storage paths, table column)."""
    if len(partition_key) < 7 or partition_key[4] != "-":
        raise ValueError(f"not a monthly partition key: {partition_key!r} (expected YYYY-MM-01)")
    return partition_key[:7]


def partition_key_of(month: str) -> str:
    return f"{month}-01"

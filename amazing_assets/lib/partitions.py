"""The monthly partitions shared by every asset, and month-key helpers."""

from __future__ import annotations

import dagster as dg

FIRST_MONTH = "2019-10-01"
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=FIRST_MONTH)

# The run tags that say which months a run covers: one partition, or a single-run range.
# (Dagster's documented run tags, spelt out: the constants live in a private module.)
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def month_of(partition_key: str) -> str:
    """``2019-10-01`` (Dagster's month key) → ``2019-10`` (storage paths, table column)."""
    if len(partition_key) < 7 or partition_key[4] != "-":
        raise ValueError(f"not a monthly partition key: {partition_key!r} (expected YYYY-MM-01)")
    return partition_key[:7]


def partition_key_of(month: str) -> str:
    return f"{month}-01"

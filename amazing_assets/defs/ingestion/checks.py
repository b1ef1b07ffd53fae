"""Checks on raw_events (clean_events' checks are in :mod:`amazing_assets.defs.cleaning.checks`)."""

import dagster as dg
import pyarrow as pa

from amazing_assets.lib.checks import relative_change, result, spec
from amazing_assets.lib.quality import QualityResource
from amazing_assets.lib.schema import PARSED_EVENT_SCHEMA

RAW = "raw_events"

RAW_CHECK_SPECS = [
    spec("required_columns_and_types", RAW, "every export column present with its type"),
    spec("has_rows", RAW, "the month has at least one row"),
    spec(
        "defective_share",
        RAW,
        "share of rows that cannot be parsed under the threshold (blocks the month's cleaning)",
        blocking=True,
    ),
    spec("rows_in_partition_month", RAW, "rows dated outside the month under the threshold"),
    spec("volume_drift", RAW, "event volume close to last month's (warning)"),
    spec(
        "lossy_values",
        RAW,
        "rows kept with an attribute that lost precision, e.g. a category_id written in "
        "scientific notation by a spreadsheet (warning; stored as null in clean_events)",
    ),
]


def schema_matches(schema: pa.Schema) -> tuple[bool, dict]:
    expected = {f.name: str(f.type) for f in PARSED_EVENT_SCHEMA}
    found = {f.name: str(f.type) for f in schema}
    wrong = {
        c: {"expected": t, "found": found.get(c)} for c, t in expected.items() if found.get(c) != t
    }
    return not wrong, {"mismatches": wrong}


def raw_results(
    schema: pa.Schema,
    per_month: dict[str, dict[str, int]],
    previous_rows: dict[str, int | None],
    quality: QualityResource,
) -> list[dg.AssetCheckResult]:
    """Per month: ``rows``, ``defective``, ``outside_month``, ``lossy``; ``previous_rows``: the
    month before's rows."""
    ok, schema_meta = schema_matches(schema)
    share = {m: s["defective"] / s["rows"] if s["rows"] else 0.0 for m, s in per_month.items()}
    outside = {
        m: s["outside_month"] / s["rows"] if s["rows"] else 0.0 for m, s in per_month.items()
    }
    change = {m: relative_change(s["rows"], previous_rows.get(m)) for m, s in per_month.items()}
    drifting = {
        m: c for m, c in change.items() if c is not None and abs(c) > quality.max_volume_change
    }
    return [
        result(RAW, "required_columns_and_types", ok, schema_meta),
        result(
            RAW,
            "has_rows",
            all(s["rows"] > 0 for s in per_month.values()),
            {"rows": {m: s["rows"] for m, s in per_month.items()}},
        ),
        result(
            RAW,
            "defective_share",
            all(v <= quality.max_defective_share for v in share.values()),
            {
                "share": {m: round(v, 6) for m, v in share.items()},
                "threshold": quality.max_defective_share,
            },
        ),
        result(
            RAW,
            "rows_in_partition_month",
            all(v <= quality.max_outside_month_share for v in outside.values()),
            {
                "outside_share": {m: round(v, 6) for m, v in outside.items()},
                "threshold": quality.max_outside_month_share,
            },
        ),
        result(
            RAW,
            "volume_drift",
            not drifting,
            {
                "change_vs_previous_month": {
                    m: None if c is None else round(c, 4) for m, c in change.items()
                },
                "threshold": quality.max_volume_change,
            },
            warn=True,
        ),
        result(
            RAW,
            "lossy_values",
            all(s.get("lossy", 0) == 0 for s in per_month.values()),
            {"rows": {m: s.get("lossy", 0) for m, s in per_month.items()}},
            warn=True,
            description=None
            if all(s.get("lossy", 0) == 0 for s in per_month.values())
            else "category_id lost digits (the export went through a spreadsheet or pandas); "
            "those rows are kept with a null category_id. Re-export with ids as text to keep it.",
        ),
    ]

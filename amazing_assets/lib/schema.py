"""The REES46 export schema and the typed event schema every stage agrees on."""

from __future__ import annotations

import pyarrow as pa

EVENT_COLUMNS: tuple[str, ...] = (
    "event_time",
    "event_type",
    "product_id",
    "category_id",
    "category_code",
    "brand",
    "price",
    "user_id",
    "user_session",
)
EVENT_TYPES: tuple[str, ...] = ("view", "cart", "remove_from_cart", "purchase")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S UTC"
UNKNOWN = "unknown"
"""What clean_events stores for a missing category code or brand."""

# Typed columns of an export row. Money is float64 (prices carry two decimals; revenue sums are
# rounded when reported).
TYPED_EVENT_FIELDS: list[pa.Field] = [
    pa.field("event_time", pa.timestamp("us", tz="UTC")),
    pa.field("event_type", pa.string()),
    pa.field("product_id", pa.int64()),
    pa.field("category_id", pa.int64()),
    pa.field("category_code", pa.string()),
    pa.field("brand", pa.string()),
    pa.field("price", pa.float64()),
    pa.field("user_id", pa.int64()),
    pa.field("user_session", pa.string()),
]

WARNING_COLUMN = "_warning"

# Provenance columns added at ingestion. ``_defect`` is null for a well-formed row, else a
# reason code (see DEFECT_* below); ``_raw_line`` keeps the original text of defective rows only.
# ``_warning`` is null, or a code (see WARNING_* below) for a row that is usable but lost
# something on the way, so a non-blocking check can count it without dropping the row.
PARSED_EVENT_SCHEMA = pa.schema(
    [
        *TYPED_EVENT_FIELDS,
        pa.field("_source_file", pa.string()),
        pa.field("_defect", pa.string()),
        pa.field("_raw_line", pa.string()),
        pa.field(WARNING_COLUMN, pa.string()),
    ]
)

# Columns that must be present and parseable for a row to be usable at all.
REQUIRED_VALUES: tuple[str, ...] = (
    "event_time",
    "event_type",
    "product_id",
    "price",
    "user_id",
    "user_session",
)

# Attributes: a row is still usable when one of these is missing or only approximately known.
LOSSY_ATTRIBUTES: tuple[str, ...] = ("category_id",)

DEFECT_WRONG_FIELD_COUNT = "wrong_field_count"
DEFECT_ROW_TOO_LONG = "row_too_long"
DEFECT_UNCLOSED_QUOTE = "unclosed_quote"
"""A line that opens a quoted field and does not close it: a quoted field may not span a line
end, so the line is one defect row and the next line is read afresh."""


def defect_missing(column: str) -> str:
    """Code of a row whose required ``column`` is empty."""
    return f"missing_{column}"


def defect_unparseable(column: str) -> str:
    """Code of a row whose ``column`` is not a value of its type (ids: exact and non-negative)."""
    return f"unparseable_{column}"


def warning_lossy(column: str) -> str:
    """``_warning`` code of a value that reached us through a float (e.g. ``2.1038E+18``).

    Such a value is near the true id but not equal to it: usable to group rows within the
    month, never to join on (see :func:`amazing_assets.defs.cleaning.classification.clean_view`).
    """
    return f"lossy_{column}"


WARNING_LOSSY_CATEGORY_ID = warning_lossy("category_id")

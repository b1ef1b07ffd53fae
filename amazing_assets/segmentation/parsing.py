"""Turn export rows read as text into typed rows, marking (never dropping) defective ones.

Vectorised with pyarrow compute so it runs at CSV-parsing speed inside the ingestion tasks. The
fast path casts a whole column at once; only a column that fails falls back to validating each
value, so clean exports pay almost nothing for the checks.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from amazing_assets.segmentation.schema import (
    EVENT_COLUMNS,
    PARSED_EVENT_SCHEMA,
    REQUIRED_VALUES,
    TIMESTAMP_FORMAT,
    TYPED_EVENT_FIELDS,
    defect_missing,
    defect_unparseable,
)

INT64_MAX_TEXT = str(2**63 - 1)
# Whole numbers, optionally written as floats by a spreadsheet ("5802432.0"). Scientific
# notation ("1.48758E+18") is *not* accepted: the digits it lost cannot be recovered.
_INTEGER_PATTERN = r"^[0-9]{1,19}(\.0+)?$"
_DECIMAL_PATTERN = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def parse_integer(text: pa.Array) -> pa.Array:
    """int64 values; null where the text is null or not a whole number that fits in int64."""
    try:
        return pc.cast(text, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    trimmed = pc.utf8_trim_whitespace(text)
    ok = pc.match_substring_regex(trimmed, _INTEGER_PATTERN)
    digits = pc.replace_substring_regex(trimmed, r"\.0+$", "")
    too_big = pc.and_(
        pc.equal(pc.utf8_length(digits), 19), pc.greater(digits, pa.scalar(INT64_MAX_TEXT))
    )
    ok = pc.and_(ok, pc.invert(too_big))
    return pc.cast(pc.if_else(ok, digits, pa.scalar(None, pa.string())), pa.int64())


def parse_decimal(text: pa.Array) -> pa.Array:
    """float64 values; null where the text is null or not a finite decimal number."""
    try:
        values = pc.cast(text, pa.float64())
        if not pc.any(pc.is_nan(values)).as_py() and not pc.any(pc.is_inf(values)).as_py():
            return values
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    trimmed = pc.utf8_trim_whitespace(text)
    ok = pc.match_substring_regex(trimmed, _DECIMAL_PATTERN)
    return pc.cast(pc.if_else(ok, trimmed, pa.scalar(None, pa.string())), pa.float64())


# Other spellings of a UTC instant that exports produce, accepted after the REES46 one:
# "2019-10-01 00:00:00", "2019-10-01T00:00:00", with an optional "Z" or "+00:00".
_ISO_UTC_SUFFIX = r"(Z|\+00:?00| UTC)$"
_ISO_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


def parse_timestamp(text: pa.Array) -> pa.Array:
    """UTC timestamps from ``2019-10-01 00:00:00 UTC`` or ISO 8601 in UTC; else null.

    Times with another offset or in day-first formats are not guessed: they stay null and the
    row is quarantined as ``unparseable_event_time``.
    """
    parsed = pc.strptime(text, format=TIMESTAMP_FORMAT, unit="us", error_is_null=True)
    if pc.all(pc.or_(pc.is_valid(parsed), pc.is_null(text))).as_py() is not False:
        return parsed.cast(pa.timestamp("us", tz="UTC"))
    stripped = pc.replace_substring_regex(pc.utf8_trim_whitespace(text), _ISO_UTC_SUFFIX, "")
    for fmt in _ISO_FORMATS:
        retry = pc.strptime(stripped, format=fmt, unit="us", error_is_null=True)
        parsed = pc.coalesce(parsed, retry)
    return parsed.cast(pa.timestamp("us", tz="UTC"))


_PARSERS = {
    "event_time": parse_timestamp,
    "product_id": parse_integer,
    "category_id": parse_integer,
    "price": parse_decimal,
    "user_id": parse_integer,
}


def type_events(text: pa.Table | pa.RecordBatch, source_file: str) -> pa.RecordBatch:
    """Type one batch of export rows read as strings (columns :data:`EVENT_COLUMNS`).

    Returns a batch with :data:`PARSED_EVENT_SCHEMA`. A row keeps its parsed values and gets a
    ``_defect`` code (the first problem found, in column order) and its ``_raw_line`` when a
    required value is missing or any value cannot be parsed.
    """
    columns: list[pa.Array] = []
    defect = pa.nulls(text.num_rows, pa.string())
    for field in TYPED_EVENT_FIELDS:
        raw = _as_array(text.column(field.name))
        parser = _PARSERS.get(field.name)
        typed = parser(raw) if parser else raw
        columns.append(typed)
        if parser:
            unparseable = pc.and_(pc.is_valid(raw), pc.is_null(typed))
            defect = pc.if_else(
                pc.and_(pc.is_null(defect), unparseable), defect_unparseable(field.name), defect
            )
        if field.name in REQUIRED_VALUES:
            defect = pc.if_else(
                pc.and_(pc.is_null(defect), pc.is_null(raw)), defect_missing(field.name), defect
            )
    is_defective = pc.is_valid(defect)
    if pc.any(is_defective).as_py():
        raw_line = pc.binary_join_element_wise(
            *[pc.fill_null(_as_array(text.column(c)), "") for c in EVENT_COLUMNS], ","
        )
        raw_line = pc.if_else(is_defective, raw_line, pa.scalar(None, pa.string()))
    else:
        raw_line = pa.nulls(text.num_rows, pa.string())
    source = (
        pa.array([source_file] * text.num_rows, pa.string())
        if text.num_rows
        else pa.array([], pa.string())
    )
    return pa.RecordBatch.from_arrays(
        [*columns, source, defect, raw_line], schema=PARSED_EVENT_SCHEMA
    )


def defective_lines(lines: list[str], reason: str, source_file: str) -> pa.RecordBatch:
    """Rows the CSV parser could not split into the expected fields, kept with their text."""
    n = len(lines)
    columns = [pa.nulls(n, f.type) for f in TYPED_EVENT_FIELDS]
    return pa.RecordBatch.from_arrays(
        [
            *columns,
            pa.array([source_file] * n, pa.string()),
            pa.array([reason] * n, pa.string()),
            pa.array(lines, pa.string()),
        ],
        schema=PARSED_EVENT_SCHEMA,
    )


def _as_array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column

"""Turn export rows read as text into typed rows, marking (never dropping) defective ones.

Vectorised with pyarrow compute so it runs at CSV-parsing speed inside the ingestion tasks. The
fast path casts a whole column at once; only a column that fails falls back to validating each
value, so clean exports pay almost nothing for the checks.

Identifiers are exact or nothing: a key (``user_id``, ``product_id``) that went through a float
and lost digits cannot be trusted, so its row is quarantined. ``category_id`` is only an
attribute: when it lost digits the row is kept with the nearest whole number and a
``_warning`` (``lossy_category_id``) that says the value is approximate.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from amazing_assets.lib.schema import (
    EVENT_COLUMNS,
    LOSSY_ATTRIBUTES,
    PARSED_EVENT_SCHEMA,
    REQUIRED_VALUES,
    TIMESTAMP_FORMAT,
    TYPED_EVENT_FIELDS,
    defect_missing,
    defect_unparseable,
    warning_lossy,
)

INT64_MAX_TEXT = str(2**63 - 1)
# float64 holds every whole number up to 2**53; a float-written id above it may have lost digits.
FLOAT_EXACT_LIMIT = 2**53
# Whole numbers, optionally written as floats by a spreadsheet or pandas ("5802432.0").
_INTEGER_PATTERN = r"^[0-9]{1,19}(\.0+)?$"
_FLOAT_SUFFIX = r"\.0+$"
# Scientific notation ("1.4875800092865987e+18", "1.48758E+18") is what a float64 column
# prints for a 19-digit id: the digits it lost cannot be recovered.
_SCIENTIFIC_PATTERN = r"^\+?([0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+$"
_DECIMAL_PATTERN = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_NULL_TEXT = pa.scalar(None, pa.string())


@dataclass(frozen=True)
class ParsedIds:
    """Identifiers read from text: exact where possible, approximate where the text lost digits.

    ``values`` is int64: the id, or for a ``lossy`` row the whole number the text denotes (near
    the true id, not equal to it), or null where the text is not a non-negative whole number.
    ``lossy`` is a non-null boolean array.
    """

    values: pa.Array
    lossy: pa.Array

    def exact(self) -> pa.Array:
        """The ids that can be trusted: lossy rows become null."""
        if not pc.any(self.lossy).as_py():
            return self.values
        return pc.if_else(self.lossy, pa.scalar(None, pa.int64()), self.values)


def parse_ids(text: pa.Array) -> ParsedIds:
    """Non-negative int64 ids from text, telling exact values from ones that went through a float.

    Negative ids do not exist in the export (they are counters), so ``-5`` is unparseable like
    any other text that is not an id.
    """
    try:
        values = pc.cast(text, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _parse_ids_value_by_value(text)
    return ParsedIds(_without_negatives(values), _all_false(len(text)))


def parse_integer(text: pa.Array) -> pa.Array:
    """Exact non-negative int64 values; null where the text is null, not a whole number that
    fits in int64, or a number that lost digits through a float (scientific notation, or a
    ``.0`` float above 2**53)."""
    return parse_ids(text).exact()


def _parse_ids_value_by_value(text: pa.Array) -> ParsedIds:
    trimmed = pc.utf8_trim_whitespace(text)
    digits = pc.replace_substring_regex(trimmed, _FLOAT_SUFFIX, "")
    too_big = pc.and_(
        pc.equal(pc.utf8_length(digits), 19), pc.greater(digits, pa.scalar(INT64_MAX_TEXT))
    )
    ok = pc.and_(pc.match_substring_regex(trimmed, _INTEGER_PATTERN), pc.invert(too_big))
    whole = pc.cast(pc.if_else(ok, digits, _NULL_TEXT), pa.int64())
    via_float = pc.and_(
        pc.match_substring_regex(trimmed, _FLOAT_SUFFIX), pc.greater(whole, FLOAT_EXACT_LIMIT)
    )
    scientific = _scientific_whole_numbers(trimmed)
    lossy = pc.or_kleene(pc.fill_null(via_float, False), pc.is_valid(scientific))
    return ParsedIds(pc.coalesce(whole, scientific), lossy)


def _scientific_whole_numbers(trimmed: pa.Array) -> pa.Array:
    """int64 value of text in scientific notation that denotes a whole number in int64 range."""
    is_scientific = pc.fill_null(pc.match_substring_regex(trimmed, _SCIENTIFIC_PATTERN), False)
    if not pc.any(is_scientific).as_py():
        return pa.nulls(len(trimmed), pa.int64())
    floats = pc.cast(pc.if_else(is_scientific, trimmed, _NULL_TEXT), pa.float64())
    fits = pc.and_(pc.less(floats, float(2**63)), pc.equal(pc.floor(floats), floats))
    floats = pc.if_else(pc.fill_null(fits, False), floats, pa.scalar(None, pa.float64()))
    return pc.cast(floats, pa.int64(), safe=False)


def _without_negatives(values: pa.Array) -> pa.Array:
    smallest = pc.min(values).as_py()
    if smallest is None or smallest >= 0:
        return values
    return pc.if_else(pc.less(values, 0), pa.scalar(None, pa.int64()), values)


def _all_false(n: int) -> pa.Array:
    return pc.fill_null(pa.nulls(n, pa.bool_()), False)


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
    return pc.cast(pc.if_else(ok, trimmed, _NULL_TEXT), pa.float64())


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
    "price": parse_decimal,
}
_ID_COLUMNS = ("product_id", "category_id", "user_id")


def _typed(column: str, raw: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    """``column``'s typed values and, for an attribute that may be approximate, the lossy rows."""
    if column in _ID_COLUMNS:
        ids = parse_ids(raw)
        return (ids.values, ids.lossy) if column in LOSSY_ATTRIBUTES else (ids.exact(), None)
    parser = _PARSERS.get(column)
    return (parser(raw) if parser else raw), None


def type_events(text: pa.Table | pa.RecordBatch, source_file: str) -> pa.RecordBatch:
    """Type one batch of export rows read as strings (columns :data:`EVENT_COLUMNS`).

    Returns a batch with :data:`PARSED_EVENT_SCHEMA`. A row keeps its parsed values and gets a
    ``_defect`` code (the first problem found, in column order) and its ``_raw_line`` when a
    required value is missing or any value cannot be parsed. A row whose ``category_id`` lost
    digits keeps the approximate value and gets ``_warning`` = ``lossy_category_id`` instead:
    the row is a real event, only that attribute is unreliable.
    """
    columns: list[pa.Array] = []
    defect = pa.nulls(text.num_rows, pa.string())
    warning = pa.nulls(text.num_rows, pa.string())
    for field in TYPED_EVENT_FIELDS:
        raw = _as_array(text.column(field.name))
        typed, lossy = _typed(field.name, raw)
        columns.append(typed)
        if typed is not raw:
            unparseable = pc.and_(pc.is_valid(raw), pc.is_null(typed))
            defect = _first_code(defect, unparseable, defect_unparseable(field.name))
        if field.name in REQUIRED_VALUES:
            defect = _first_code(defect, pc.is_null(raw), defect_missing(field.name))
        if lossy is not None:
            warning = _first_code(warning, lossy, warning_lossy(field.name))
    source = pa.array([source_file] * text.num_rows, pa.string())
    return pa.RecordBatch.from_arrays(
        [*columns, source, defect, _raw_lines(text, defect), warning], schema=PARSED_EVENT_SCHEMA
    )


def _first_code(codes: pa.Array, condition: pa.Array, code: str) -> pa.Array:
    """Set ``code`` where ``condition`` holds and no earlier code was set."""
    if not pc.any(condition).as_py():
        return codes
    return pc.if_else(pc.and_(pc.is_null(codes), condition), code, codes)


def _raw_lines(text: pa.Table | pa.RecordBatch, defect: pa.Array) -> pa.Array:
    """The row's text (fields in export order) where it is defective, else null."""
    is_defective = pc.is_valid(defect)
    if not pc.any(is_defective).as_py():
        return pa.nulls(text.num_rows, pa.string())
    raw_line = pc.binary_join_element_wise(
        *[pc.fill_null(_as_array(text.column(c)), "") for c in EVENT_COLUMNS], ","
    )
    return pc.if_else(is_defective, raw_line, _NULL_TEXT)


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
            pa.nulls(n, pa.string()),
        ],
        schema=PARSED_EVENT_SCHEMA,
    )


# A header line inside the data (exports joined with `cat`) may carry the byte-order mark of the
# file it came from, and spaces the first header was forgiven for. After a BOM a quoted name
# keeps its quotes (the CSV parser sees the quote mid-field), so quotes are padding too.
_HEADER_PADDING = ' \t\ufeff"'
_COLUMN_NAMES = pa.array(EVENT_COLUMNS, pa.string())


def header_name(text: str) -> str:
    """A header field as the landing zone compares it: no BOM, spaces or quotes around it."""
    return text.strip(_HEADER_PADDING)


def header_like_rows(text: pa.Table | pa.RecordBatch) -> pa.Array:
    """True for rows whose ``event_time`` field is a column name: header lines inside the data.

    A real event time is a timestamp, never one of these words, so no event is mistaken for a
    header.
    """
    names = pc.utf8_trim(_as_array(text.column("event_time")), _HEADER_PADDING)
    return pc.fill_null(pc.is_in(names, value_set=_COLUMN_NAMES), False)


def repeated_header_rows(text: pa.Table | pa.RecordBatch) -> pa.Array:
    """True for rows where every export column holds its own name: the file's header again.

    Rows after such a line have the same layout as the rest of the file, so skipping the line
    is all it takes.
    """
    same = header_like_rows(text)
    for column in EVENT_COLUMNS:
        names = pc.utf8_trim(_as_array(text.column(column)), _HEADER_PADDING)
        same = pc.and_(same, pc.fill_null(pc.equal(names, column), False))
    return same


def _as_array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column

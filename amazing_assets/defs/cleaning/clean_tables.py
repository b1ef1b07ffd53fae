"""What classified rows become, in Arrow: the rows of ``clean_events`` and ``event_quarantine``,
and the counts the accounting and the checks need.

They run inside the Spark tasks that classify the rows (``cleaning_write``), so a month's rows
are classified, pseudonymised, written and counted in one pass, with no cache and no second
read; :func:`.classification.clean_view` and ``quarantine_view`` apply the
same functions to a Spark DataFrame.

``classified``: the raw columns (typed export columns, provenance, ``month``) plus
``drop_reason`` (null = kept) and, once pseudonymised, the token columns of
:data:`IDENTIFIER_TOKENS`, which then replace the raw ids.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from amazing_assets.defs.ingestion.id_fields import mask_id_fields
from amazing_assets.lib.identifiers import RAW_USER_ID_PATTERN, UUID_PATTERN
from amazing_assets.lib.schema import (
    EVENT_COLUMNS,
    EVENT_TYPES,
    LOSSY_ATTRIBUTES,
    UNKNOWN,
    WARNING_COLUMN,
    warning_lossy,
)

EXPORT_COLUMNS = list(EVENT_COLUMNS)
IDENTIFIER_TOKENS = {"user_id": "user_key", "user_session": "session_key"}
"""Raw identifier column → the column of its pseudonymous token."""
MASKED_USER_ID = "[user_id]"
MASKED_SESSION = "[user_session]"
VIOLATIONS = ("null_keys", "bad_types", "negative_prices")
"""What the clean_events checks look for besides duplicates; counted per outcome group."""

RowsOf = Callable[[pa.Table], pa.Table]


def clean_rows(classified: pa.Table) -> pa.Table:
    """The kept rows, in the shape stored as ``clean_events``: tokens in place of the raw ids
    when ``classified`` carries them, ``unknown`` for a missing category code or brand.

    A ``category_id`` that reached ingestion with lost digits is null here (see :func:`trusted`).
    """
    kept = classified.filter(pc.is_null(classified["drop_reason"]))
    columns = {
        "event_time": kept["event_time"],
        "event_type": kept["event_type"],
        "product_id": kept["product_id"],
        "category_id": trusted(kept, "category_id"),
        "category_code": without_identifier_shapes(pc.fill_null(kept["category_code"], UNKNOWN)),
        "brand": without_identifier_shapes(pc.fill_null(kept["brand"], UNKNOWN)),
        "price": kept["price"],
    }
    for column in IDENTIFIER_TOKENS:
        name = identifier(kept, column)
        columns[name] = kept[name]
    columns["month"] = kept["month"]
    return pa.table(columns)


def quarantine_rows(classified: pa.Table) -> pa.Table:
    """The dropped rows with their reason, source file and (for unparseable rows) raw text with
    identifiers masked (see :func:`line_without_identifiers`); ids as in :func:`clean_rows`."""
    dropped = classified.filter(pc.is_valid(classified["drop_reason"]))
    columns = {}
    for column in EXPORT_COLUMNS:
        name = identifier(dropped, column) if column in IDENTIFIER_TOKENS else column
        columns[name] = dropped[name] if column in IDENTIFIER_TOKENS else trusted(dropped, column)
    columns["_source_file"] = dropped["_source_file"]
    columns["_raw_line"] = lines_without_identifiers(dropped)
    columns["reason"] = dropped["drop_reason"]
    columns["month"] = dropped["month"]
    return pa.table(columns)


def identifier(classified: pa.Table, column: str) -> str:
    """The name of ``column``'s pseudonymous token when ``classified`` carries it, else
    ``column`` (raw ids: for tests)."""
    token = IDENTIFIER_TOKENS[column]
    return token if token in classified.column_names else column


def trusted(classified: pa.Table, column: str) -> pa.ChunkedArray:
    """``column``, null where ingestion flagged it lossy (``_warning`` = ``lossy_<column>``).

    The approximate value served the cleaning rules of its month (rows of one category share
    it); stored, it would look like an exact id and join to the wrong category downstream.
    """
    values = classified[column]
    if column not in LOSSY_ATTRIBUTES or WARNING_COLUMN not in classified.column_names:
        return values
    lossy = pc.fill_null(pc.equal(classified[WARNING_COLUMN], warning_lossy(column)), False)
    return pc.if_else(lossy, pa.scalar(None, values.type), values)


_RAW_USER_ID = re.compile(RAW_USER_ID_PATTERN, re.ASCII)
_UUID = re.compile(UUID_PATTERN, re.ASCII)


def line_without_identifiers(line: str, user_id: object, session: object) -> str:
    """``line`` with the row's user id and session masked.

    The quarantine stores pseudonymous tokens next to the line: a raw id beside its token would
    make the quarantine a re-identification table. The parsed values are replaced exactly, as
    whole fields (bounded by a comma, a quote or the line's ends, with the ".0" a spreadsheet
    may have added to an id), and anything shaped like an id or a session besides (an id that
    failed to parse).
    """
    if user_id is not None:
        # Every spelling the parser reads as this id: leading zeros, spaces, quotes, ".0".
        line = mask_id_fields(line, int(str(user_id)), MASKED_USER_ID)
    if session is not None:
        field = rf'(?<![^,"]){re.escape(str(session))}(?![^,"\r\n])'
        line = re.sub(field, MASKED_SESSION, line)
    return _UUID.sub(MASKED_SESSION, _RAW_USER_ID.sub(MASKED_USER_ID, line))


def without_identifier_shapes(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Free text (brand, category code) with anything shaped like a raw id or session masked: an
    id typed into another field would otherwise reach the pseudonymous tables. Computed once per
    distinct value (a month has a few thousand brands)."""
    distinct = pc.unique(values)
    texts = distinct.to_pylist()
    masked = [
        t if t is None else _UUID.sub(MASKED_SESSION, _RAW_USER_ID.sub(MASKED_USER_ID, t))
        for t in texts
    ]
    if masked == texts:
        return values
    return pc.take(pa.array(masked, values.type), pc.index_in(values, value_set=distinct))


def lines_without_identifiers(rows: pa.Table) -> pa.Array:
    """``_raw_line`` of each row, masked (only defective rows have a line: few per month)."""
    lines = rows["_raw_line"].to_pylist()
    if all(line is None for line in lines):
        return pa.nulls(len(lines), pa.string())
    users, sessions = rows["user_id"].to_pylist(), rows["user_session"].to_pylist()
    return pa.array(
        [
            None if line is None else line_without_identifiers(line, user, session)
            for line, user, session in zip(lines, users, sessions, strict=True)
        ],
        pa.string(),
    )


def outcome_counts(classified: pa.Table) -> list[dict]:
    """Rows per (month, ``drop_reason``), with the check violations counted in each group: the
    accounting and the checks from the pass that classifies (the kept rows are the group whose
    reason is null). A null compares like Spark SQL: a null type or price is no violation."""
    bad_type = pc.and_(
        pc.invert(pc.is_in(classified["event_type"], pa.array(EVENT_TYPES))),
        pc.is_valid(classified["event_type"]),
    )
    flags = pa.table(
        {
            "month": classified["month"],
            "drop_reason": classified["drop_reason"],
            "null_keys": pc.or_(
                pc.is_null(classified["user_id"]), pc.is_null(classified["user_session"])
            ).cast(pa.int64()),
            "bad_types": bad_type.cast(pa.int64()),
            "negative_prices": pc.fill_null(pc.less(classified["price"], 0), False).cast(
                pa.int64()
            ),
        }
    )
    grouped = flags.group_by(["month", "drop_reason"]).aggregate(
        [([], "count_all"), *((v, "sum") for v in VIOLATIONS)]
    )
    return [
        {
            "month": g["month"],
            "drop_reason": g["drop_reason"],
            "count": g["count_all"],
            **{v: g[f"{v}_sum"] for v in VIOLATIONS},
        }
        for g in grouped.to_pylist()
    ]


def kept_duplicates(classified: pa.Table) -> int:
    """Kept rows equal on every export column to another kept row of their month (the "no
    duplicate kept" check). Found by grouping, not by the rule's sort-and-compare: an independent
    reading. Exact copies share their user id, so whole customers per call see every pair.

    Copies also share customer, time and product: rows are first grouped by those (integers,
    cheap to hash), and only the few that share them are grouped by every column (8x faster on
    a month than grouping every row by its ten columns).
    """
    kept = classified.filter(pc.is_null(classified["drop_reason"]))
    rows = pa.table(
        {**{c: kept[c] for c in CANDIDATE_KEY}, "_row": pa.array(np.arange(kept.num_rows))}
    )
    groups = rows.group_by(list(CANDIDATE_KEY), use_threads=False).aggregate([("_row", "list")])
    shared = groups.filter(pc.greater(pc.list_value_length(groups["_row_list"]), 1))
    candidates = kept.take(pc.list_flatten(shared["_row_list"]))
    columns = [*EXPORT_COLUMNS, "month"]
    values = pa.table({c: _comparable(candidates[c]) for c in columns})
    distinct = values.group_by(columns, use_threads=False).aggregate([])
    return candidates.num_rows - distinct.num_rows


def _comparable(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Floats with one NaN and one zero: Arrow groups by bits, the rules compare as Spark's
    ``<=>`` does (NaN equals NaN, -0.0 equals 0.0)."""
    if not pa.types.is_floating(values.type):
        return values
    zero_is_positive = pc.add(values, pa.scalar(0.0, values.type))  # -0.0 + 0.0 = 0.0
    return pc.if_else(pc.is_nan(values), pa.scalar(float("nan"), values.type), zero_is_positive)


CANDIDATE_KEY = ("user_id", "month", "event_time", "product_id")
"""Columns every pair of exact copies shares, which narrow the duplicate scan."""


def merged_counts(groups: list[dict]) -> list[dict]:
    """:func:`outcome_counts` of several tasks added up per (month, ``drop_reason``)."""
    merged: dict[tuple, dict] = {}
    for g in groups:
        key = (g["month"], g["drop_reason"])
        if key not in merged:
            merged[key] = dict(g)
        else:
            for name in ("count", *VIOLATIONS):
                merged[key][name] += g[name]
    return list(merged.values())


def kept_violations(groups: list[dict], duplicates: int) -> dict[str, int]:
    """What the clean_events checks look for, on the kept rows (merged :func:`outcome_counts`
    and :func:`kept_duplicates`)."""
    kept = [g for g in groups if g["drop_reason"] is None]
    return {k: sum(int(g[k] or 0) for g in kept) for k in VIOLATIONS} | {"duplicates": duplicates}

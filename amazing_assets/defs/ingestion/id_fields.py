"""Which fields of an export line hold a given user id, by the parser's notion of an id.

The parser reads ``00541312140``, `` 541312140 ``, ``"541312140"`` and ``541312140.0`` all as
user 541312140 (:func:`amazing_assets.defs.ingestion.parsing.parse_ids`). Whatever matches or
masks a customer's id in a line must agree with it, or a spelling the parser accepts slips
through (shown beside its token in the quarantine), and a substring match (``LIKE '%1004%'``)
catches other customers (10045). So lines are split into their CSV fields and each field is
parsed exactly as ingestion parses ``user_id``.

A line with the export's nine fields has its user id in the ``user_id`` position; any other
line (a wrong field count, a cut-off overlong row) has no trustworthy position, so every field
is compared: such a line is garbage whose only use is to be recognised, and erring towards
forgetting it is the safe side.

Sessions are matched the same way, as whole fields and never by substring (a customer's session
``abc`` inside another's ``abc-2``, or a session equal to a common word such as ``view``, took
the other customer's rows). In a nine-field line the ``user_session`` field is compared; in any
other line only a session of :data:`MIN_FREE_SESSION_LENGTH` characters or more is compared
with every field, since a short one could equal any field of anyone's line. Such a line of the
customer is still found by its id.
"""

from __future__ import annotations

import csv
import re

import pyarrow as pa

from amazing_assets.defs.ingestion.parsing import parse_ids
from amazing_assets.lib.schema import EVENT_COLUMNS

USER_ID_FIELD = EVENT_COLUMNS.index("user_id")
SESSION_FIELD = EVENT_COLUMNS.index("user_session")
MIN_FREE_SESSION_LENGTH = 16
"""Shortest session compared with every field of a line without the export's nine fields
(REES46 sessions are 36-character UUIDs)."""


def line_fields(line: str) -> list[str]:
    """The CSV fields of one line (quotes removed as the export parser removes them)."""
    try:
        return next(csv.reader([line.replace("\x00", "")], skipinitialspace=False), [])
    except csv.Error:  # an unclosed quote: fall back to plain commas
        return line.split(",")


def parsed_ids(fields: list[str]) -> list[int | None]:
    """Each field as the parser reads a user id (exact whole number, else None)."""
    if not fields:
        return []
    values = parse_ids(pa.array(fields, pa.string())).exact()
    return values.to_pylist()


def line_user_ids(line: str) -> set[int]:
    """The user ids a raw export line may belong to (see the module docstring)."""
    fields = line_fields(line)
    if len(fields) == len(EVENT_COLUMNS):
        fields = [fields[USER_ID_FIELD]]
    return {v for v in parsed_ids(fields) if v is not None}


def line_holds(line: str, ids: set[int]) -> bool:
    """True when ``line`` belongs to one of ``ids`` (:func:`line_user_ids`)."""
    return bool(line_user_ids(line) & ids)


def line_holds_session(line: str, sessions: set[str]) -> bool:
    """True when a field of ``line`` is one of ``sessions``, exactly (see the module docstring).

    ``sessions`` as stored in ``raw_events`` (the field's text); spaces around are ignored."""
    wanted = {s.strip() for s in sessions if s and s.strip()}
    if not wanted:
        return False
    fields = [f.strip() for f in line_fields(line)]
    if len(fields) == len(EVENT_COLUMNS):
        return fields[SESSION_FIELD] in wanted
    distinctive = {s for s in wanted if len(s) >= MIN_FREE_SESSION_LENGTH}
    return any(f in distinctive for f in fields)


def line_of_customers(line: str, ids: set[int], sessions: set[str]) -> bool:
    """True when ``line`` belongs to one of the customers: by an id field or a session field."""
    return line_holds(line, ids) or line_holds_session(line, sessions)


def id_field_pattern(user_id: int) -> re.Pattern[str]:
    """A whole CSV field that the parser reads as ``user_id``: leading zeros, a ``.0`` suffix,
    spaces and quotes around it. Group ``pre`` and ``post`` are the padding (kept when masking)."""
    return re.compile(
        r"(?:^|(?<=,))(?P<pre>[ \t]*\"?[ \t]*)0*"
        + re.escape(str(int(user_id)))
        + r"(?:\.0+)?(?P<post>[ \t]*\"?[ \t]*)(?=,|\r|\n|$)"
    )


def mask_id_fields(line: str, user_id: int, mask: str) -> str:
    """``line`` with every field that the parser reads as ``user_id`` replaced by ``mask``."""
    return id_field_pattern(user_id).sub(lambda m: m.group("pre") + mask + m.group("post"), line)

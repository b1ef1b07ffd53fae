"""When a month is rejected: the decision and a message that says what to fix (no Dagster).

A month is rejected as a whole when too much of it is unusable; its tables then stay at their
previous version and the rows that caused the rejection are kept for inspection. The message is
what a data engineer reads first (in the run's failure, the UI and ``amazing-demo``), so it names
the month, the files, the top defect codes with counts, example lines and what to do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from amazing_assets.defs.ingestion.line_shape import line_shape
from amazing_assets.lib.identifiers import UUID_PATTERN

TOP_CODES = 5
EXAMPLE_LINES = 2
MAX_EXAMPLE_CHARS = 200

# What to do about a defect code, by its prefix; the fallback covers codes added later.
REMEDIES: tuple[tuple[str, str], ...] = (
    (
        "wrong_field_count",
        "lines that do not split into the header's fields: re-export the file "
        "without truncation, with one event per line and quotes around fields holding commas",
    ),
    (
        "unclosed_quote",
        "lines that open a quoted field and do not close it on the same line (a stray quote, "
        'e.g. a brand written as "apple): re-export with quotes doubled inside quoted fields',
    ),
    (
        "row_too_long",
        "lines longer than the maximum row size (a field that swallowed other lines, e.g. an "
        "unclosed quote, or binary data): re-export the file as plain CSV",
    ),
    (
        "unparseable_event_time",
        "event_time must read like 2019-10-01 00:00:00 UTC (or ISO 8601 in UTC)",
    ),
    (
        "unparseable_",
        "a value cannot be typed: check the column's format (whole-number ids, "
        "decimal prices with a dot)",
    ),
    (
        "missing_",
        "a required value is empty: re-export with user_id, user_session, event_time and "
        "event_type filled",
    ),
    ("unknown_event_type", "event_type must be view, cart, remove_from_cart or purchase"),
    ("outside_month", "events dated outside the month: put each file in its month's folder"),
)


@dataclass(frozen=True)
class Example:
    """One offending line, with where it came from and why."""

    source_file: str
    code: str
    line: str | None


def remedy_for(code: str) -> str:
    return next((text for prefix, text in REMEDIES if code.startswith(prefix)), code)


# Example lines reach logs and the UI: identifiers are masked, their shape kept (a user id, a
# product or category id is a run of 7+ digits; a session id is a UUID). Dates, times and
# prices have shorter runs and stay readable, which is what a format problem needs.
_LONG_DIGITS = re.compile(r"\d{7,}")
_UUID = re.compile(UUID_PATTERN)


def mask_identifiers(line: str) -> str:
    line = _UUID.sub("<uuid>", line)
    return _LONG_DIGITS.sub(lambda m: "#" * len(m.group(0)), line)


def clip(line: str | None) -> str:
    """One example line by its shape (no value of it: see :func:`line_shape`), on one line, at
    most MAX_EXAMPLE_CHARS."""
    if line is None:
        return "(no text kept)"
    one_line = line_shape(line).replace("\r", "\\r").replace("\n", "\\n")
    return one_line if len(one_line) <= MAX_EXAMPLE_CHARS else one_line[:MAX_EXAMPLE_CHARS] + "…"


def rejection_message(
    *,
    month: str,
    problem: str,
    files: Mapping[str, tuple[int, int]],
    codes: Mapping[str, int],
    examples: Sequence[Example],
    rows_table: str,
    threshold_setting: str,
) -> str:
    """The whole story of one rejected month, in plain text.

    ``files``: file name → (rows, offending rows); ``codes``: defect/drop code → rows.
    """
    top = sorted(codes.items(), key=lambda item: (-item[1], item[0]))[:TOP_CODES]
    lines = [f"month {month} rejected: {problem}"]
    lines.append("  files:")
    for name, (rows, bad) in sorted(files.items()):
        lines.append(f"    {name}: {rows:,} rows, {bad:,} offending")
    lines.append("  top codes: " + ", ".join(f"{code} {n:,}" for code, n in top))
    lines.append("  example lines (their shape: digits as 9, letters as a):")
    for example in examples[:EXAMPLE_LINES]:
        lines.append(f"    [{example.code}] {example.source_file}: {clip(example.line)}")
    lines.append(
        f"  The month's tables stay at their previous version. Every offending row is in "
        f"{rows_table} (month={month})."
    )
    lines.append("  What to do:")
    for code, _ in top[:3]:
        lines.append(f"    - {code}: {remedy_for(code)}")
    lines.append(
        f"    Then replace the file(s) in the landing folder {month}/ and re-run partition "
        f"{month}-01 (or raise {threshold_setting} if this share is expected)."
    )
    return "\n".join(lines)

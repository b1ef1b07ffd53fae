"""Month arithmetic on ``YYYY-MM`` keys (the table's month column), in one place."""

from __future__ import annotations

from datetime import UTC, date, datetime


def month_start(month: str) -> date:
    year, number = (int(part) for part in month.split("-"))
    return date(year, number, 1)


def add_months(month: str, offset: int) -> str:
    start = month_start(month)
    index = start.year * 12 + start.month - 1 + offset
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The first instant of ``month`` and of the month after it, in UTC."""
    start, after = month_start(month), month_start(add_months(month, 1))
    return (
        datetime(start.year, start.month, 1, tzinfo=UTC),
        datetime(after.year, after.month, 1, tzinfo=UTC),
    )

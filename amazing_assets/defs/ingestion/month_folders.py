"""Which landing folder names are months: exactly ``YYYY-MM`` in ASCII digits, month 01-12.

Why so strict, and why every near-miss gets its own reason: ``\\d`` also matches Arabic-Indic
and other Unicode digits and ``$`` matches before a trailing newline, so ``٢٠١٩-١٠`` or
``2019-10\\n`` used to pass as months that no partition has, and their exports waited silently
("until the month ends", forever). Such a folder is now left out with a reason that says how
to rename it.
"""

from __future__ import annotations

import re
import unicodedata

MONTH_FOLDER = re.compile(r"[0-9]{4}-[0-9]{2}")
"""Matched with ``fullmatch``: nothing before or after, ASCII digits only."""


def valid_month(folder: str) -> bool:
    return MONTH_FOLDER.fullmatch(folder) is not None and 1 <= int(folder[5:7]) <= 12


def month_folder_problem(folder: str) -> str | None:
    """None for a month folder, else why the folder is none (and its exports are left out)."""
    if valid_month(folder):
        return None
    shown = ascii(folder)  # escapes newlines and non-ASCII digits, so the reader sees them
    stripped = folder.strip()
    if stripped != folder and valid_month(_ascii_digits(stripped)):
        return (
            f"month folder {shown} has spaces or a line break around the month; "
            f"rename it to {_ascii_digits(stripped)}"
        )
    ascii_name = _ascii_digits(stripped)
    if ascii_name != stripped and valid_month(ascii_name):
        return f"month folder {shown} is written with non-ASCII digits; rename it to {ascii_name}"
    return "not in a YYYY-MM month folder"


def _ascii_digits(text: str) -> str:
    """``text`` with every Unicode decimal digit replaced by its ASCII digit."""
    return "".join(
        str(unicodedata.decimal(c)) if unicodedata.decimal(c, None) is not None else c for c in text
    )

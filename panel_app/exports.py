"""Campaign-ready CSV files: their columns, their file names and their CSV dialect.

A campaign tool reads these files as they are: one row per customer with the pseudonymous
``user_key``, the segment's name and the month, and the churn and value figures; French
files use ``;`` between fields and a decimal comma (what French Excel expects), English ones
``,`` and ``.``. File names are slugs in the UI language (``segment-browsers-low-activity-2019-12
.csv``): no comma, space or accent a tool or a shell would trip on.
"""

from __future__ import annotations

import io
import re
import unicodedata

import pandas as pd

CAMPAIGN_COLUMNS = (
    "user_key",
    "segment",
    "month",
    "churn_risk",
    "p_alive",
    "expected_purchases_90d",
    "expected_revenue_90d",
)
"""Stable machine names (a campaign tool maps columns once), the same in both languages."""
FIGURE_COLUMNS = CAMPAIGN_COLUMNS[3:]
DIALECTS = {"fr": (";", ","), "en": (",", ".")}
"""Language → (field separator, decimal mark)."""


def slug(text: str) -> str:
    """ASCII, lower case, words joined by single hyphens: ``Visiteurs, activité faible`` →
    ``visiteurs-activite-faible``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def file_name(words: str, month: str) -> str:
    """``<slug of words>-<month>.csv``; ``month`` is a ``YYYY-MM`` partition key."""
    return f"{slug(words)}-{month}.csv"


def campaign_frame(customers: pd.DataFrame, segment_names: dict[int, str], month: str):
    """The campaign columns from per-customer rows with ``user_key``, ``segment`` (number) and
    the value figures (missing for a customer who never bought: left empty in the file)."""
    out = pd.DataFrame({"user_key": customers["user_key"].to_numpy()})
    numbers = customers["segment"]
    out["segment"] = [
        segment_names.get(int(n), "") if pd.notna(n) else "" for n in numbers.to_numpy()
    ]
    out["month"] = month
    for column in FIGURE_COLUMNS:
        if column in customers:
            out[column] = pd.to_numeric(customers[column], errors="coerce").round(4).to_numpy()
        else:
            out[column] = float("nan")
    return out[list(CAMPAIGN_COLUMNS)]


def to_csv(frame: pd.DataFrame, language: str) -> str:
    """The frame as CSV in the language's dialect (header row, no index, UTF-8 text)."""
    separator, decimal = DIALECTS[language]
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, sep=separator, decimal=decimal)
    return buffer.getvalue()

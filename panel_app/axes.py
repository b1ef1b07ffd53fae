"""Chart axes in the UI language: grouped thousands, € on money, % on shares (issue 27).

Bokeh draws tick labels on a canvas from JavaScript, so the app's Python formats
(:func:`panel_app.i18n.format_number` and friends) cannot reach them: :func:`tick_formatter`
repeats the same rules in the browser. French groups thousands with a narrow no-break space and
uses a decimal comma (``2 400 000 €``, ``45 %``); English a comma and a point (``€2,400,000``,
``45%``). Shares are stored 0-1 and shown as percentages.
"""

from __future__ import annotations

from typing import Literal

from bokeh.models import CustomJSTickFormatter

Kind = Literal["count", "money", "percent", "decimal"]

TICK_JS = """
const value = kind === "percent" ? 100 * tick : tick
let text = Math.abs(value).toLocaleString("en-US", {
  minimumFractionDigits: 0, maximumFractionDigits: decimals, useGrouping: true,
})
if (language === "fr") text = text.replace(/,/g, "\\u202f").replace(".", ",")
if (value < 0 && text.replace(/[0.,\\u202f]/g, "") !== "") text = "-" + text
if (kind === "money") return language === "fr" ? text + " €" : "€" + text
if (kind === "percent") return language === "fr" ? text + "\\u202f%" : text + "%"
return text
"""
"""The JavaScript twin of ``format_number`` / ``format_money`` / ``format_percent``."""

DECIMALS: dict[str, int] = {"count": 0, "money": 2, "percent": 1, "decimal": 2}
"""At most this many decimals per kind (a tick shows fewer when it has fewer: ``€50``)."""


def tick_formatter(kind: Kind, language: str) -> CustomJSTickFormatter:
    """A Bokeh tick formatter for an axis of ``kind`` in ``language`` ("fr" or "en")."""
    return CustomJSTickFormatter(
        args={"kind": kind, "language": language, "decimals": DECIMALS[kind]}, code=TICK_JS
    )

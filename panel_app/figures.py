"""Churn figures as shown: the number with its band's word, or why there is no number yet.

The first month of a warehouse has no earlier purchase to measure a departure against: every
buyer bought in the window just observed, so the model's churn risk there is ~0 % by
construction, not a finding. Such a month shows "not yet measurable" instead of 0 %.
"""

from __future__ import annotations

import math

from amazing_assets.defs.value.churn_bands import churn_word
from panel_app.i18n import format_percent

NOT_MEASURABLE = {
    "fr": "pas encore mesurable (premier mois, sans historique)",
    "en": "not yet measurable (first month, no history)",
}


def churn_shown(risk: float | None, language: str, measurable: bool = True) -> str:
    """``45 % (modéré)``; the not-measurable note on a first month; ``—`` without a figure."""
    if not measurable:
        return NOT_MEASURABLE[language]
    if risk is None or not math.isfinite(float(risk)):
        return "—"
    return f"{format_percent(risk, language, 0)} ({churn_word(risk, language)})"

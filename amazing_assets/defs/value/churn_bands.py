"""Churn-risk bands: the one place that says which words go with which churn risk.

Every label the app or the pipeline writes about churn ("low", "high"...) comes from here, so
a word always agrees with its number: 37 % and 45 % are both "moderate", never "low". The
bands are quarters of the probability scale; the top of "moderate" is the 50 % line the
value actions use (a buyer more likely gone than still there is "high").
"""

from __future__ import annotations

import math
from typing import NamedTuple


class ChurnBand(NamedTuple):
    key: str
    upper: float  # exclusive upper bound of the band's churn risk
    fr: str
    en: str


CHURN_BANDS: tuple[ChurnBand, ...] = (
    ChurnBand("low", 0.25, "faible", "low"),
    ChurnBand("moderate", 0.50, "modéré", "moderate"),
    ChurnBand("high", 0.75, "élevé", "high"),
    ChurnBand("very_high", math.inf, "très élevé", "very high"),
)
HIGH_CHURN = CHURN_BANDS[1].upper
"""From here on a churn risk is "high": the buyer is more likely gone than still there."""


def churn_band(risk: float) -> ChurnBand:
    """The band of a churn risk in [0, 1]; a value outside it or NaN is a programming error."""
    if not 0.0 <= risk <= 1.0:
        raise ValueError(f"churn risk must be in [0, 1], got {risk!r}")
    return next(band for band in CHURN_BANDS if risk < band.upper)


def churn_word(risk: float, language: str) -> str:
    """The band's word in ``language`` ("fr" or "en")."""
    band = churn_band(risk)
    return band.fr if language == "fr" else band.en

"""The month's "can we trust it?" verdict in words (FR/EN), from ``month_verdict``'s rows.

The pipeline decides (``amazing_assets.defs.monitoring.verdict``); the app only tells: a title
that says whether the month compares with the last, then one sentence per aspect that does not
hold, each naming the data cause and its figure, so that a change coming from the data is read
as such and not as a market shift.
"""

from __future__ import annotations

import calendar
import math

import pandas as pd

from panel_app.i18n import format_number, format_percent

TITLES = {
    "comparable": {
        "fr": "Mois comparable au précédent : les écarts viennent de l'activité",
        "en": "Comparable with last month: changes come from activity",
    },
    "caution": {
        "fr": "À comparer avec prudence : une partie des écarts vient des données",
        "en": "Compare with care: part of the changes comes from the data",
    },
    "first_month": {
        "fr": "Premier mois : rien à comparer encore",
        "en": "First month: nothing to compare with yet",
    },
}

CHANGES_FROM_DATA = {
    "fr": "Ces écarts peuvent venir des données plutôt que du marché (voir l'encadré en tête).",
    "en": "These changes may come from the data rather than the market (see the box on top).",
}
WINDOW_FILLING = {
    "fr": "La fenêtre de {window} mois n'est pas encore pleine ({filled} sur {window}) : la "
    "croissance des segments n'est pas comparée.",
    "en": "The {window}-month window is not full yet ({filled} of {window}): segment growth is "
    "not compared.",
}

DROPPED = {
    "bot_share": {"fr": "Robots écartés", "en": "Bots removed"},
    "duplicate_share": {"fr": "Doublons de suivi écartés", "en": "Tracking duplicates removed"},
    "defect_share": {"fr": "Lignes défectueuses écartées", "en": "Defective rows removed"},
}
"""Aspects that are shares of raw rows dropped, told alike."""


def _days(month: str) -> int:
    year, number = (int(part) for part in month.split("-"))
    return calendar.monthrange(year, number)[1]


def _signed(share: float, language: str) -> str:
    return ("+" if share >= 0 else "−") + format_percent(abs(share), language, 0)


def _points(now: float, before: float, language: str) -> str:
    return (
        f"{format_percent(now, language)} "
        + ("contre" if language == "fr" else "against")
        + f" {format_percent(before, language)}"
    )


def aspect_sentence(row: dict, language: str) -> str:
    """One aspect that does not hold, in words, with its figure."""
    aspect, month = row["aspect"], row["month"]
    measured, previous = float(row["measured"]), float(row["previous"])
    fr = language == "fr"
    if aspect == "days_covered":
        days, total = round(measured * _days(month)), _days(month)
        return (
            f"Événements sur {days} jours sur {total} : export coupé ou boutique ouverte en cours "
            "de mois."
            if fr
            else f"Events on {days} of {total} days: an export cut short, or a store opened "
            "mid-month."
        )
    if aspect == "event_volume":
        change = "∞" if math.isinf(measured) else _signed(measured, language)
        before = format_number(previous, language)
        return (
            f"Volume d'événements {change} (contre {before} le mois précédent) : panne de suivi "
            "ou export partiel possible."
            if fr
            else f"Event volume {change} (against {before} last month): a tracking outage or a "
            "partial export is possible."
        )
    if aspect in DROPPED:
        what = DROPPED[aspect][language]
        figures = _points(measured, previous, language)
        return f"{what} : {figures} des lignes brutes." if fr else f"{what}: {figures} of raw rows."
    if aspect == "category_remap":
        share = format_percent(measured, language, 0)
        return (
            f"Catégories renumérotées : {share} des événements portent sur des produits qui ont "
            "changé de catégorie (les chiffres par catégorie ne se comparent pas)."
            if fr
            else f"Categories renumbered: {share} of events are on products whose category "
            "changed (figures per category do not compare)."
        )
    if aspect == "window_months":
        return window_sentence(row, language)
    return aspect


def window_sentence(row: dict, language: str) -> str:
    filled, window = int(row["measured"]), int(row["threshold"])
    return WINDOW_FILLING[language].format(filled=filled, window=window)


def verdict_parts(rows: pd.DataFrame, language: str) -> tuple[str, str, list[str]]:
    """(verdict code, title, sentences of the aspects that do not hold)."""
    verdict = str(rows["verdict"].iloc[0])
    warned = rows[rows["status"] == "warn"].to_dict("records")
    return verdict, TITLES[verdict][language], [aspect_sentence(r, language) for r in warned]


def window_filling(rows: pd.DataFrame | None) -> dict | None:
    """The window row when the month's feature window is not full, else None."""
    if rows is None or rows.empty:
        return None
    window = rows[(rows["aspect"] == "window_months") & (rows["status"] == "warn")]
    return window.iloc[0].to_dict() if len(window) else None

"""The prediction form's input: numbers typed the local way, checked against plausible bounds.

A marketer types ``12,5`` in French or ``12.5`` in English; a letter, an empty field, a negative
count or a number far beyond anything the month has seen gets a clear message in the UI
language instead of a NaN, a Python error or a silent revert. The bounds come from the data:
a field may be at most :data:`BOUND_FACTOR` times the month's highest value of the matching
feature (spend, orders, views, carts), and days since the last visit at most the month's
highest recency (the model's window: older customers are not in it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from panel_app.i18n import format_number

BOUND_FACTOR = 10.0
"""How far beyond the month's highest value a typed figure may go before it is refused."""


@dataclass(frozen=True)
class FormField:
    key: str  # keyword of ``behaviour_features``
    label_key: str  # i18n label
    default: float
    integer: bool
    feature: str | None  # user_features_rfm column whose month maximum bounds it
    factor: float = BOUND_FACTOR


FORM_FIELDS: tuple[FormField, ...] = (
    FormField("recency_days", "recency_days", 7, False, "recency_days", factor=1.0),
    FormField("orders", "orders_input", 0, True, "frequency"),
    FormField("spend", "spend", 0, False, "monetary"),
    FormField("views", "views", 10, True, "n_views"),
    FormField("carts", "carts", 0, True, "n_carts"),
    FormField("purchases", "purchases", 0, True, "n_carts"),  # items bought ≤ carts, roughly
)
BOUND_FEATURES = sorted({f.feature for f in FORM_FIELDS if f.feature})

MESSAGES = {
    "empty": {
        "fr": "« {label} » est vide : saisissez un nombre.",
        "en": "“{label}” is empty: enter a number.",
    },
    "not_a_number": {
        "fr": "« {label} » : « {text} » n'est pas un nombre (exemple : 12,5).",
        "en": "“{label}”: “{text}” is not a number (example: 12.5).",
    },
    "negative": {
        "fr": "« {label} » ne peut pas être négatif (saisi : {text}).",
        "en": "“{label}” cannot be negative (typed: {text}).",
    },
    "not_integer": {
        "fr": "« {label} » est un nombre entier (saisi : {text}).",
        "en": "“{label}” is a whole number (typed: {text}).",
    },
    "too_large": {
        "fr": "« {label} » : au plus {bound} ({reason}), saisi : {text}.",
        "en": "“{label}”: at most {bound} ({reason}), typed: {text}.",
    },
    "reason_factor": {
        "fr": "{factor} × la valeur la plus haute du mois, {highest}",
        "en": "{factor} × the month's highest value, {highest}",
    },
    "reason_window": {
        "fr": "la plus ancienne dernière visite du mois",
        "en": "the oldest last visit of the month",
    },
}

_FRENCH_NUMBER = re.compile(r"^[+-]?(\d+([  \u202f]\d{3})*|\d*)(,\d+)?$")
_ENGLISH_NUMBER = re.compile(r"^[+-]?(\d+(,\d{3})*|\d*)(\.\d+)?$")


def parse_number(text: str, language: str) -> float | None:
    """``text`` as a number written the ``language`` way (either decimal mark is accepted when
    it cannot be a thousands separator), or None when it is not a finite number."""
    cleaned = text.strip().replace("−", "-")
    if not cleaned or not any(c.isdigit() for c in cleaned):
        return None
    if language == "fr" and _FRENCH_NUMBER.match(cleaned):
        cleaned = re.sub(r"[  \u202f]", "", cleaned).replace(",", ".")
    elif language == "en" and _ENGLISH_NUMBER.match(cleaned):
        cleaned = cleaned.replace(",", "")
    elif re.fullmatch(r"[+-]?\d*[.,]\d+|[+-]?\d+", cleaned):
        cleaned = cleaned.replace(",", ".")
    else:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def upper_bound(field: FormField, highest: dict[str, float]) -> float | None:
    """The largest value accepted for ``field``; None when the month has no such feature."""
    if field.feature is None or field.feature not in highest:
        return None
    return max(1.0, float(highest[field.feature])) * field.factor


def validate(
    texts: dict[str, str], highest: dict[str, float], labels: dict[str, str], language: str
) -> tuple[dict[str, float], list[str]]:
    """``(values, errors)``: every field's number when all are valid, else the messages.

    ``highest`` is the month's maximum of each :data:`BOUND_FEATURES` column; ``labels`` the
    fields' shown labels (messages name the field as the user sees it).
    """
    values: dict[str, float] = {}
    errors: list[str] = []

    def say(kind: str, field: FormField, text: str, **extra: str) -> None:
        message = MESSAGES[kind][language]
        errors.append(message.format(label=labels[field.key], text=text.strip(), **extra))

    for field in FORM_FIELDS:
        text = texts.get(field.key, "")
        if not text.strip():
            say("empty", field, text)
            continue
        value = parse_number(text, language)
        if value is None:
            say("not_a_number", field, text)
            continue
        if value < 0:
            say("negative", field, text)
            continue
        if field.integer and not value.is_integer():
            say("not_integer", field, text)
            continue
        bound = upper_bound(field, highest)
        if bound is not None and value > bound:
            if field.factor == 1.0:
                reason = MESSAGES["reason_window"][language]
            else:
                reason = MESSAGES["reason_factor"][language].format(
                    factor=format_number(field.factor, language),
                    highest=format_number(highest[field.feature or ""], language),
                )
            say("too_large", field, text, bound=format_number(bound, language), reason=reason)
            continue
        values[field.key] = value
    return (values, errors) if not errors else ({}, errors)


def default_text(field: FormField, language: str) -> str:
    return format_number(field.default, language)

"""Pure logic of the app's trust fixes: form validation, churn bands, export slugs and dialects."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amazing_assets.defs.segments.value_summary import VALUE_ACTIONS, value_priority
from amazing_assets.defs.value.churn_bands import CHURN_BANDS, HIGH_CHURN, churn_band, churn_word
from panel_app.exports import CAMPAIGN_COLUMNS, campaign_frame, file_name, slug, to_csv
from panel_app.form_input import FORM_FIELDS, parse_number, validate

LABELS = {f.key: f.key.replace("_", " ").title() for f in FORM_FIELDS}
HIGHEST = {
    "recency_days": 90.0,
    "frequency": 12.0,
    "monetary": 4_000.0,
    "n_views": 300.0,
    "n_carts": 40.0,
}
VALID = {
    "recency_days": "7",
    "orders": "2",
    "spend": "120,5",
    "views": "10",
    "carts": "1",
    "purchases": "0",
}


def test_valid_french_input_gives_numbers():
    values, errors = validate(VALID, HIGHEST, LABELS, "fr")
    assert errors == []
    assert values["spend"] == 120.5 and values["orders"] == 2


@pytest.mark.parametrize(
    ("field", "text", "fr", "en"),
    [
        ("orders", "abc", "n'est pas un nombre", "is not a number"),
        ("spend", "", "est vide", "is empty"),
        ("recency_days", "-5", "ne peut pas être négatif", "cannot be negative"),
        ("orders", "2,5", "nombre entier", "whole number"),
        ("spend", "1000000000000000", "au plus 40 000", "at most 40,000"),
        ("recency_days", "91", "au plus 90", "at most 90"),
        ("spend", "nan", "n'est pas un nombre", "is not a number"),
        ("spend", "inf", "n'est pas un nombre", "is not a number"),
    ],
)
def test_invalid_input_is_refused_with_a_message_in_each_language(field, text, fr, en):
    for language, expected in (("fr", fr), ("en", en)):
        values, errors = validate({**VALID, field: text}, HIGHEST, LABELS, language)
        assert values == {}
        assert len(errors) == 1 and expected in errors[0].replace("\u202f", " "), errors
        assert LABELS[field] in errors[0]
        assert "NaN" not in errors[0] and "Error" not in errors[0]


def test_numbers_are_read_the_local_way():
    assert parse_number("1 234,5", "fr") == 1234.5
    assert parse_number("1\u202f234,5", "fr") == 1234.5
    assert parse_number("1,234.5", "en") == 1234.5
    assert parse_number("12.5", "fr") == 12.5  # a dot cannot be a French thousands separator
    assert parse_number("12,5", "en") == 12.5  # nor ",5" an English one
    assert parse_number("−5", "fr") == -5
    for junk in ("", " ", "abc", "1e400", "12a", "--1", ","):
        assert parse_number(junk, "fr") is None, junk


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=12), st.sampled_from(["fr", "en"]))
def test_any_text_gives_numbers_or_messages_never_nan(text, language):
    values, errors = validate({**VALID, "spend": text}, HIGHEST, LABELS, language)
    assert bool(values) != bool(errors)
    if values:
        assert 0 <= values["spend"] <= 10 * HIGHEST["monetary"]


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=1))
def test_every_churn_risk_has_exactly_one_band_whose_range_holds_it(risk):
    band = churn_band(risk)
    lower = ([0.0] + [b.upper for b in CHURN_BANDS])[CHURN_BANDS.index(band)]
    assert lower <= risk < band.upper


def test_churn_words_agree_with_their_numbers():
    assert churn_word(0.37, "fr") == churn_word(0.45, "fr") == "modéré"
    assert churn_word(0.10, "fr") == "faible" and churn_word(0.10, "en") == "low"
    assert churn_word(0.5, "en") == "high" and HIGH_CHURN == 0.5
    assert churn_word(1.0, "fr") == "très élevé"
    with pytest.raises(ValueError, match="churn risk must be in"):
        churn_band(float("nan"))


def test_value_actions_name_the_50_percent_line_not_a_band_word():
    for english, french in VALUE_ACTIONS.values():
        assert "low churn" not in english and "high churn" not in english
        assert "risque de départ faible" not in french and "risque de départ élevé" not in french
    row = pd.Series({"modelled_buyers": 10, "churn_risk": 0.45, "expected_revenue_per_buyer": 1.0})
    assert "under 50 %" in VALUE_ACTIONS[value_priority(row, 2.0)][0]


def test_file_names_are_slugs_without_commas_or_accents():
    assert file_name("segment Browsers, low activity", "2019-12") == (
        "segment-browsers-low-activity-2019-12.csv"
    )
    assert file_name("clients a risque Visiteurs, activité faible", "2019-11") == (
        "clients-a-risque-visiteurs-activite-faible-2019-11.csv"
    )


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_slugs_hold_only_lowercase_ascii_words_and_single_hyphens(text):
    out = slug(text)
    assert all(c.isascii() and (c.isalnum() or c == "-") and not c.isupper() for c in out)
    assert "--" not in out and not out.startswith("-") and not out.endswith("-")


def customers() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_key": ["k1", "k2"],
            "segment": [3, 3],
            "churn_risk": [0.25, None],
            "p_alive": [0.75, None],
            "expected_purchases_90d": [1.5, None],
            "expected_revenue_90d": [1234.5, None],
        }
    )


def test_french_csv_uses_semicolons_and_decimal_commas_english_commas_and_points():
    frame = campaign_frame(customers(), {3: "Visiteurs, activité faible"}, "2019-11")
    french = to_csv(frame, "fr")
    rows = list(csv.DictReader(io.StringIO(french), delimiter=";"))
    assert tuple(rows[0]) == CAMPAIGN_COLUMNS
    assert rows[0]["segment"] == "Visiteurs, activité faible" and rows[0]["month"] == "2019-11"
    assert rows[0]["expected_revenue_90d"] == "1234,5" and rows[0]["churn_risk"] == "0,25"
    assert rows[1]["churn_risk"] == ""  # never bought: no prediction, left empty
    english = list(csv.DictReader(io.StringIO(to_csv(frame, "en"))))
    assert english[0]["expected_revenue_90d"] == "1234.5"
    assert english[0]["segment"] == "Visiteurs, activité faible"  # quoted, still one field

"""The verdict's sentences: every aspect told in both languages, with its own figure."""

from __future__ import annotations

import pandas as pd
import pytest

from amazing_assets.defs.monitoring.verdict import ASPECTS, VerdictRules, judge, verdict_table
from amazing_assets_tests.test_month_verdict import steady
from panel_app.verdict_text import aspect_sentence, verdict_parts, window_filling

BROKEN = {
    "days_covered": ({"days_with_events": 12}, {"fr": "12 jours sur 31", "en": "12 of 31 days"}),
    "event_volume": ({"events": 40_000, "raw_rows": 40_800}, {"fr": "−60", "en": "−60"}),
    "bot_share": ({"bot_rows": 6_000}, {"fr": "5,9", "en": "5.9"}),
    "duplicate_share": ({"duplicate_rows": 5_000}, {"fr": "4,9", "en": "4.9"}),
    "defect_share": ({"defect_rows": 4_000}, {"fr": "3,9", "en": "3.9"}),
    "category_remap": ({"category_remap": 0.8}, {"fr": "80", "en": "80"}),
    "window_months": ({"window_months_with_events": 2}, {"fr": "2 sur 3", "en": "2 of 3"}),
}


def test_every_aspect_has_a_case():
    assert set(BROKEN) == set(ASPECTS)


@pytest.mark.parametrize("aspect", ASPECTS)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_each_broken_aspect_is_one_sentence_with_its_figure(aspect, language):
    change, figure = BROKEN[aspect]
    judged = judge(steady("2019-12", **change), steady("2019-11"), VerdictRules())
    rows = verdict_table([judged])
    verdict, title, sentences = verdict_parts(rows, language)
    assert verdict == "caution" and title
    [sentence] = sentences
    assert figure[language] in sentence and sentence != aspect
    [row] = rows[rows["aspect"] == aspect].to_dict("records")
    assert aspect_sentence(row, language) == sentence
    assert (window_filling(rows) is not None) == (aspect == "window_months")


def test_a_steady_month_has_a_title_and_nothing_to_explain():
    rows = verdict_table([judge(steady("2019-12"), steady("2019-11"), VerdictRules())])
    assert verdict_parts(rows, "en") == (
        "comparable",
        "Comparable with last month: changes come from activity",
        [],
    )
    assert window_filling(rows) is None and window_filling(pd.DataFrame()) is None

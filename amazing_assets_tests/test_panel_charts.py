"""The app's chart helpers without a browser: identity colours, axis formats, text alternatives.

The colour rule is checked on histories built the way the pipeline builds segment ids (a new
segment takes the next unused id, an ended id never returns); the axis formatter's JavaScript
runs in Node against the app's Python formats.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from panel_app.axes import DECIMALS, TICK_JS
from panel_app.chart_data import ChartData, Swatch, alternative_html
from panel_app.colours import NO_SEGMENT_COLOUR, PALETTE, colour_of, identity_colours
from panel_app.i18n import format_money, format_number, format_percent

MAX_SEGMENTS = len(PALETTE)


@st.composite
def histories(draw, max_months: int = 8) -> list[list[int]]:
    """Months of segment ids as the pipeline allots them: each month keeps some of last month's
    ids, ends the others and gives new segments the next unused ids; at most 20 a month."""
    months = [list(range(draw(st.integers(1, MAX_SEGMENTS))))]
    next_id = len(months[0])
    for _ in range(draw(st.integers(0, max_months - 1))):
        kept = draw(st.lists(st.sampled_from(months[-1]), unique=True, max_size=len(months[-1])))
        new = draw(st.integers(0 if kept else 1, MAX_SEGMENTS - len(kept)))
        months.append(kept + list(range(next_id, next_id + new)))
        next_id += new
    return months


def test_the_palette_holds_twenty_distinct_colours_none_of_them_the_grey():
    assert len(set(PALETTE)) == len(PALETTE) == 20
    assert NO_SEGMENT_COLOUR not in PALETTE
    # Ten segments a month (the usual k) get Category10's strong colours.
    assert set(identity_colours([range(10)]).values()) == set(PALETTE[:10])


@given(st.sets(st.integers(0, 10_000), min_size=1, max_size=MAX_SEGMENTS))
def test_up_to_twenty_identities_of_one_month_all_get_different_colours(ids):
    colours = identity_colours([ids])
    assert set(colours) == ids
    assert len(set(colours.values())) == len(ids)
    assert set(colours.values()) <= set(PALETTE)


@given(histories(), st.randoms(use_true_random=False))
def test_the_mapping_depends_on_the_ids_not_on_their_order(months, shuffler):
    shuffled = [shuffler.sample(m, len(m)) + m[:1] for m in months]  # reordered, duplicated
    shuffler.shuffle(shuffled)
    assert identity_colours(shuffled) == identity_colours(months)


@settings(max_examples=200)
@given(histories())
def test_segments_of_one_month_never_share_a_colour(months):
    colours = identity_colours(months)
    for ids in months:
        assert len({colours[i] for i in ids}) == len(ids), ids


@settings(max_examples=200)
@given(histories(max_months=10))
def test_adding_a_month_never_changes_a_colour_already_shown(months):
    """The same identity keeps its colour when the pipeline adds later months."""
    for shown in range(1, len(months)):
        before = identity_colours(months[:shown])
        after = identity_colours(months)
        assert {i: after[i] for i in before} == before


def test_an_identity_keeps_its_colour_across_months_and_a_new_one_takes_a_free_colour():
    # October: 0-5; November: 0 ended, 1-5 continue, 6 is new; December: 7 new, 1 ended.
    colours = identity_colours([[0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7]])
    assert colours[6] == PALETTE[0]  # 0's colour, free since 0 ended
    assert colours[7] == PALETTE[1]  # 1's, free since December
    assert colour_of(colours, None) == colour_of(colours, 99) == NO_SEGMENT_COLOUR


NODE = shutil.which("node")


def node_ticks(cases: list[tuple[float, str, str]]) -> list[str]:
    """The tick formatter's JavaScript run in Node on (tick, kind, language) cases."""
    script = (
        "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));\n"
        f"const format = (tick, kind, language, decimals) => {{ {TICK_JS} }};\n"
        "console.log(JSON.stringify(cases.map(([t, k, l, d]) => format(t, k, l, d))));"
    )
    payload = json.dumps([[t, k, lang, DECIMALS[k]] for t, k, lang in cases])
    done = subprocess.run(
        [NODE or "node", "-e", script], input=payload, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def app_format(value: float, kind: str, language: str) -> str:
    """The app's Python format of ``value``, trailing zero decimals dropped (a tick shows
    ``€50``, not ``€50.00``)."""
    text = {"count": format_number, "money": format_money, "percent": format_percent}[kind](
        value, language
    )
    point = "," if language == "fr" else "."
    decimals = re.search(rf"\{point}(\d+)", text)
    if decimals is None:
        return text
    kept = decimals.group(1).rstrip("0")
    return text[: decimals.start()] + (point + kept if kept else "") + text[decimals.end() :]


@pytest.mark.skipif(NODE is None, reason="Node.js runs the tick formatter's JavaScript")
def test_axis_ticks_read_like_the_app_s_numbers_in_both_languages():
    rng = random.Random(27)
    counts = [0, 5, 999, 1000, 12_345, 2_400_000, *(rng.randrange(10**7) for _ in range(40))]
    cents = [0.5, 49.99, 1234.5, *(rng.randrange(10**8) / 100 for _ in range(40))]
    shares = [0.0, 0.2, 0.455, 1.0, *(rng.randrange(1000) / 1000 for _ in range(20))]
    cases = [
        (v, kind, language)
        for language in ("fr", "en")
        for kind, values in (("count", counts), ("money", cents), ("percent", shares))
        for v in values
    ]
    for (value, kind, language), shown in zip(cases, node_ticks(cases), strict=True):
        assert shown == app_format(value, kind, language), (value, kind, language)
    assert node_ticks([(2_400_000, "money", "fr"), (2_400_000, "money", "en")]) == [
        "2\u202f400\u202f000 €",
        "€2,400,000",
    ]
    assert node_ticks([(0.45, "percent", "fr"), (0.45, "percent", "en"), (-1.5, "decimal", "fr")])[
        :3
    ] == ["45\u202f%", "45%", "-1,5"]


def test_the_text_alternative_holds_the_numbers_and_the_swatches_escaped():
    chart = ChartData(
        key="trend-size",
        title="Taille <des> segments",
        summary="2 mois, « Champions » : 1\u202f234.",
        columns=["Segment", "2019-10"],
        rows=[["Champions & co", "1\u202f234"], ["Dormants", "—"]],
        swatches=[Swatch("#1f77b4", 5), None],
    )
    text = alternative_html(chart, "fr")
    assert 'data-chart="trend-size"' in text and 'aria-label="Taille &lt;des&gt; segments"' in text
    assert "<summary>Données du graphique : Taille &lt;des&gt; segments</summary>" in text
    assert "<figcaption" in text and "2 mois, « Champions » : 1\u202f234." in text
    assert 'data-colour="#1f77b4" data-segment-id="5"' in text
    assert "Champions &amp; co</td><td>1\u202f234</td>" in text
    assert "<details>" in text and "<details open>" in alternative_html(chart, "en", True)
    assert "Chart data: Taille" in alternative_html(chart, "en")

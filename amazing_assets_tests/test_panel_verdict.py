"""The "trust this month" verdict, first on the overview, in a real browser (FR/EN, 1366/390).

The session's warehouse holds two generated months with a 3-month feature window: October is a
first month, November's window holds 2 of its 3 months. Expected texts come from the
``month_verdict`` table, not from the app's code.
"""

from __future__ import annotations

import re

import pytest

from amazing_assets_tests.support.browser import screenshot
from amazing_assets_tests.test_panel_app import EARLIER, LATEST, table

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TITLES = {
    ("caution", "fr"): "À comparer avec prudence",
    ("caution", "en"): "Compare with care",
    ("first_month", "fr"): "Premier mois",
    ("first_month", "en"): "First month",
}
WINDOW = {"fr": "2 sur 3", "en": "2 of 3"}
SEGMENTS_HEADING = {
    "fr": "clients actifs sur 3 mois (2019-09 à 2019-11)",
    "en": "customers active over 3 months (2019-09 to 2019-11)",
}


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_verdict_comes_first_and_the_changes_say_what_the_data_did(
    browser, app, backfilled, language, width
):
    verdicts = table(backfilled.warehouse, "month_verdict").groupby("month")["verdict"].first()
    assert verdicts.to_dict() == {EARLIER: "first_month", LATEST: "caution"}
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{app.url}?language={language}&month={LATEST}")  # the link an alert carries
    box = page.locator("[data-testid=month-verdict]")
    box.wait_for()
    assert box.get_attribute("data-verdict") == "caution"
    assert TITLES[("caution", language)] in box.inner_text()
    assert WINDOW[language] in box.inner_text()
    # First in the main area: above the KPI cards.
    kpis = page.locator("[data-testid=kpi-customers]")
    kpis.wait_for()
    assert box.bounding_box()["y"] < kpis.bounding_box()["y"]
    caveats = page.locator("[data-testid=changes-caveat]")
    assert caveats.count() == 2  # the window filling, and "may come from the data"
    changes = page.locator("[data-testid=segment-change]")
    changes.first.wait_for()
    for i in range(changes.count()):
        text = changes.nth(i).inner_text()
        # No growth while the window fills ("1 131 clients (+46 %)" would be the window).
        assert not re.search(r"(clients|customers) \([+−]", text), text
    assert page.get_by_text(SEGMENTS_HEADING[language]).count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    screenshot(page, f"panel-verdict-{language}-{width}")

    # The month picker sits in the sidebar, collapsed on a phone: open October by its link.
    page.goto(f"{app.url}?language={language}&month={EARLIER}")
    page.locator("[data-testid=month-verdict][data-verdict=first_month]").wait_for()
    assert TITLES[("first_month", language)] in box.inner_text()
    assert page.locator("[data-testid=changes-caveat]").count() == 0
    context.close()


def test_a_link_with_an_unknown_month_or_page_opens_the_default_view(browser, app):
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{app.url}?month=1999-01&page=nowhere&language=xx")
    page.locator("[data-testid=month-verdict][data-verdict=caution]").wait_for()
    # Panel serves <html lang="en">; the app's language component sets the chosen language
    # once it renders, which can be after the verdict: wait for it, then check it stays French.
    page.wait_for_function("document.documentElement.lang !== 'en'", timeout=30_000)
    assert page.locator("html").get_attribute("lang") == "fr"
    context.close()


COMPARED = {
    "fr": "Tous les segments du mois, côte à côte",
    "en": "Every segment of the month, side by side",
}
NEUTRAL = {"fr": "Nom descriptif", "en": "A descriptive name"}


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize("language", ["fr", "en"])
def test_profiles_compare_every_segment_and_state_each_definition_in_words(
    browser, app, backfilled, language, width
):
    profiles = table(backfilled.warehouse, "cluster_profiles", [LATEST])
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{app.url}?language={language}&month={LATEST}&page=profiles")
    comparison = page.get_by_role("region", name=COMPARED[language]).locator("table")
    comparison.wait_for()
    rows = comparison.locator("tbody tr")
    assert rows.count() == len(profiles)
    names = profiles["name_fr" if language == "fr" else "name"]
    text = comparison.inner_text()
    for name, size in zip(names, profiles["size"], strict=True):
        assert name in text
        shown = f"{size:,}".replace(",", "\u202f" if language == "fr" else ",")
        assert shown in text
    select = page.locator("select").nth(1)
    for row in profiles.to_dict("records"):
        name = row["name_fr"] if language == "fr" else row["name"]
        select.select_option(label=name)
        page.get_by_role("heading", name=name).wait_for()
        definition = page.locator("[data-testid=segment-definition]").inner_text()
        neutral = str(row["definition"]).startswith("neutral")
        # A named segment's rule carries its thresholds (shares of members); a neutral name
        # says it claims nothing.
        assert (NEUTRAL[language] in definition) == neutral, (name, definition)
        assert ("%" in definition) != neutral, (name, definition)
    screenshot(page, f"panel-profiles-definitions-{language}-{width}")
    context.close()

"""The Model quality page in a real browser (issue 27): the stored numbers, in sentences.

Two warehouses. The session's two-month backfill, as the pipeline left it: the segments'
quality is real, and the value back-test is "not measurable yet" (two months of history). A copy
of it where 2019-11 carries a measured back-test (a real back-test on planted purchases, stored
with the pipeline's own record function) and 2019-10 is below the minimums (its predictions
removed, its record "not modelled"): the page shows the first in words and as a table, and the
page and the value page hide the second's predictions with the reason.

FR and EN, at 1366 and 390 px, a screenshot of each in ``test-artifacts/screenshots``. Expected
text is built from the stored tables with this module's own formatting, not the app's.
"""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pyarrow as pa
import pytest

from amazing_assets.defs.value.backtest import back_test
from amazing_assets.defs.value.models import purchase_days
from amazing_assets.defs.value.quality import value_quality
from amazing_assets.defs.value.value_selection import Selection
from amazing_assets.lib.delta_tables import write_arrow_months
from amazing_assets.lib.storage import Location
from amazing_assets_tests.support.browser import screenshot
from amazing_assets_tests.support.month_values import judged_month
from amazing_assets_tests.support.panel_server import serve_app
from amazing_assets_tests.support.purchases import simulate_purchases
from amazing_assets_tests.test_panel_app import EARLIER, LATEST, table

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCREENS = ((1366, 900), (390, 844))
LABELS = {"fr": ("Qualité des modèles", "Valeur client"), "en": ("Model quality", "Customer value")}


def number(value: float, language: str, decimals: int = 0) -> str:
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",") if language == "fr" else text


def percent(share: float, language: str, decimals: int = 0) -> str:
    text = number(100 * share, language, decimals)
    return f"{text}\u202f%" if language == "fr" else f"{text}%"


def write(warehouse, name: str, frame: pd.DataFrame, month: str) -> None:
    location = Location.parse(str(warehouse / name))
    write_arrow_months(location, pa.Table.from_pandas(frame, preserve_index=False), [month])


@pytest.fixture(scope="module")
def planted(backfilled, tmp_path_factory):
    """A copy of the backfill: 2019-11 measured, 2019-10 below the minimums."""
    root = tmp_path_factory.mktemp("quality") / "copy"
    shutil.copytree(backfilled.tmp, root, symlinks=True)
    warehouse = root / "warehouse"
    days = purchase_days(simulate_purchases(1_500, "2019-01", 8, seed=3).transactions)
    test = back_test(days, "2019-05", sample=5_000)
    fit = judged_month(
        "2019-08",
        test,
        Selection(test.model, "back-test at 2019-05", pd.DataFrame([test.summary()])),
    )
    months = [f"2019-{m:02d}" for m in range(1, 9)]
    for name, frame in value_quality("2019-08", days, months, fit).items():
        write(warehouse, f"value_quality/{name}", frame.assign(month=LATEST), LATEST)
    few = days[days["user_key"].isin(days["user_key"].unique()[:7])]
    reason = "7 buyers up to 2019-10: at least 20 and 10 are needed"
    for name, frame in value_quality(EARLIER, few, [EARLIER], None, reason).items():
        write(warehouse, f"value_quality/{name}", frame.assign(month=EARLIER), EARLIER)
    empty = pd.DataFrame(
        {"user_key": pd.Series(dtype="string"), "month": pd.Series(dtype="string")}
    )
    write(warehouse, "customer_value", empty, EARLIER)  # below the minimums: nothing predicted
    server = serve_app(warehouse, root / "home", root / "panel.log")
    yield server, warehouse
    server.stop()


def open_quality(browser, url: str, width: int, height: int, language: str, month: str | None):
    """A fresh page on the Model quality page, in ``language``, ``month`` chosen."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.locator("[data-testid=kpi-customers]").wait_for()

    def show_sidebar() -> None:
        if not page.locator("#sidebar").evaluate("e => e.classList.contains('show')"):
            page.locator("#sidebar-toggle").click()
            page.wait_for_timeout(500)

    show_sidebar()
    if language == "en":
        page.get_by_role("button", name="EN", exact=True).click()
        page.locator("[data-testid=kpi-customers]", has_text="Active customers").wait_for()
    if month:
        page.locator("select").first.select_option(month)
    page.get_by_role("button", name=LABELS[language][0], exact=True).click()
    page.get_by_role("heading", name=LABELS[language][0], exact=True).wait_for()
    if width < 800 and page.locator("#sidebar").evaluate("e => e.classList.contains('show')"):
        page.locator("#sidebar-toggle").click()
        page.wait_for_timeout(500)
    return context, page


def text_of(page, testid: str) -> str:
    locator = page.locator(f"[data-testid={testid}]")
    locator.wait_for()
    # Lines joined, but the narrow no-break spaces of French numbers kept (str.split drops them).
    return re.sub(r"[ \t\n]+", " ", locator.inner_text()).strip()


def assert_segment_sentences(page, warehouse, month: str, language: str) -> None:
    quality = table(warehouse, "kmeans_model/quality", [month]).iloc[0]
    separation = text_of(page, "quality-separation")
    assert f"{int(quality['k'])} segments" in separation
    assert number(quality["silhouette"], language, 2) in separation
    stability = text_of(page, "quality-stability")
    assert percent(quality["stable_share"], language) in stability
    assert percent(quality["min_stability"], language) in stability
    assert f"{int(quality['stable_segments'])} " in stability
    segments = table(warehouse, "kmeans_model/quality_segments", [month])
    profiles = table(warehouse, "cluster_profiles", [month]).set_index("segment")
    name = "name_fr" if language == "fr" else "name"
    shown = page.get_by_role("region", name="Segments").first.inner_text()
    for row in segments.itertuples():
        assert profiles.loc[row.segment, name] in shown
        assert percent(row.stability, language) in shown
    why = "Pourquoi ce nombre de segments" if language == "fr" else "Why this number of segments"
    page.get_by_text(why).wait_for()


@pytest.mark.parametrize(("width", "height"), SCREENS)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_short_history_says_not_measurable_yet_with_the_stored_figures(
    browser, app, backfilled, language, width, height
):
    context, page = open_quality(browser, app.url, width, height, language, None)
    try:
        warehouse = backfilled.warehouse
        row = table(warehouse, "value_quality/backtest", [LATEST]).iloc[0]
        assert row["status"] == "not_measurable"
        assert_segment_sentences(page, warehouse, LATEST, language)
        notice = text_of(page, "quality-not-measurable")
        opening = (
            "Précision pas encore mesurable" if language == "fr" else "Accuracy not measurable"
        )
        assert notice.startswith(opening)
        assert row["history_start"] in notice and row["measurable_from"] in notice
        assert f"{int(row['history_months'])} " in notice
        assert number(row["history_days"], language) in notice
        minimums = text_of(page, "quality-minimums")
        assert (
            f"{int(row['min_buyers'])} " in minimums
            and f"{int(row['min_repeat_buyers'])} " in minimums
        )
        assert page.locator("[data-testid=quality-top]").count() == 0  # nothing claimed
        page.locator("[data-testid=quality-not-measurable]").scroll_into_view_if_needed()
        screenshot(page, f"panel-quality-not-measurable-{language}-{width}")
    finally:
        context.close()


@pytest.mark.parametrize(("width", "height"), SCREENS)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_measured_month_says_its_back_test_and_a_month_below_the_minimums_hides_predictions(
    browser, planted, language, width, height
):
    server, warehouse = planted
    row = table(warehouse, "value_quality/backtest", [LATEST]).iloc[0]
    deciles = table(warehouse, "value_quality/deciles", [LATEST]).sort_values("decile")
    context, page = open_quality(browser, server.url, width, height, language, LATEST)
    try:
        top = text_of(page, "quality-top")
        assert percent(row["top_revenue_share"], language) in top
        assert number(row["backtest_customers"], language) in top
        assert row["calibration_end"] in top and row["holdout_end"] in top
        assert top.count("10 %") >= 3  # the top 10 %, and a random 10 % bringing 10 %
        ratio = text_of(page, "quality-ratio")
        assert number(row["predicted_purchases"], language) in ratio
        assert number(row["actual_purchases"], language) in ratio
        assert number(row["purchase_ratio"], language, 2) in ratio
        assert percent(row["top_purchase_share"], language) in ratio
        title = (
            "Achats prévus et réels par dixième de clients (10 = ceux dont on attendait le plus)"
            if language == "fr"
            else "Predicted and actual purchases by tenth of customers (10 = those expected to "
            "buy most)"
        )
        cells = page.get_by_role("region", name=title).locator("tbody tr")
        assert cells.count() == 10
        for i, d in enumerate(deciles.itertuples()):
            shown = cells.nth(i).inner_text()
            assert number(d.predicted, language, 2) in shown
            assert number(d.actual, language, 2) in shown
        page.locator("[data-testid=quality-top]").scroll_into_view_if_needed()
        screenshot(page, f"panel-quality-measured-{language}-{width}")

        # 2019-10: below the minimums. The quality page and the value page say why.
        hidden = table(warehouse, "value_quality/backtest", [EARLIER]).iloc[0]
        if width < 800:
            page.locator("#sidebar-toggle").click()
            page.wait_for_timeout(500)
        page.locator("select").first.select_option(EARLIER)
        notice = text_of(page, "quality-hidden")
        opening = "Prédictions masquées pour" if language == "fr" else "Predictions hidden for"
        assert notice.startswith(f"{opening} {EARLIER}")
        assert (
            f"{int(hidden['buyers'])} " in notice and f"{int(hidden['repeat_buyers'])} " in notice
        )
        assert f"{int(hidden['min_buyers'])} " in notice
        screenshot(page, f"panel-quality-hidden-{language}-{width}")
        if width < 800 and not page.locator("#sidebar").evaluate(
            "e => e.classList.contains('show')"
        ):
            page.locator("#sidebar-toggle").click()
            page.wait_for_timeout(500)
        page.get_by_role("button", name=LABELS[language][1], exact=True).click()
        assert text_of(page, "quality-hidden") == notice  # the value page: the same reason
        assert page.locator("[data-testid=value-modelled_buyers]").count() == 0
        screenshot(page, f"panel-value-hidden-{language}-{width}")
    finally:
        context.close()

"""The app's trust bugs of issue 27, in a real browser on the session's pipeline warehouse.

One page load per test, several checks per load: the Explorer with one segment, the customer
lookup across a month and a language switch, the prediction form's validation, the value
page's at-risk picker and export, churn words next to their numbers, campaign-ready exports.
Expected values come from the warehouse tables and independent arithmetic, not the app's code.
"""

from __future__ import annotations

import csv
import io
import os
import re

import pandas as pd
import pytest
from PIL import Image

from amazing_assets.lib.pseudonymize import Pseudonymizer
from amazing_assets_tests.support.browser import ConsoleErrors, screenshot
from amazing_assets_tests.test_panel_app import (
    EARLIER,
    LATEST,
    archetype_customers,
    french_money,
    open_page,
    table,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

BANDS_FR = ((0.25, "faible"), (0.50, "modéré"), (0.75, "élevé"), (1.01, "très élevé"))
"""The documented banding (docs/app.md), written out here independently of the app's code."""


@pytest.fixture
def page(browser, app):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(app.url)
    page.locator("[data-testid=kpi-customers]").wait_for()
    yield page
    context.close()


def band_fr(risk: float) -> str:
    return next(word for upper, word in BANDS_FR if risk < upper)


def coloured_pixels(png: bytes) -> int:
    """Pixels of a plot's screenshot that are clearly neither white nor grey (drawn points);
    the right-hand 60 px (Bokeh's toolbar and its coloured logo) are left out."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image = image.crop((0, 0, max(1, image.width - 60), image.height))
    return sum(1 for r, g, b in image.getdata() if max(r, g, b) - min(r, g, b) > 60)


def plot_pixels(page) -> int:
    """Coloured pixels inside the page's biggest canvas (the Explorer's plot)."""
    page.wait_for_timeout(3000)  # the server shades, the browser draws the image
    canvases = page.locator("canvas")
    boxes = [canvases.nth(i).bounding_box() for i in range(canvases.count())]
    box = max((b for b in boxes if b), key=lambda b: b["width"] * b["height"])
    return coloured_pixels(page.screenshot(clip=box))


def test_explorer_draws_the_points_of_a_single_selected_segment(page, backfilled):
    profiles = table(backfilled.warehouse, "cluster_profiles", [LATEST])
    biggest = profiles.sort_values("size").iloc[-1]
    open_page(page, "explorer")
    page.locator(".swatch").first.wait_for()
    everyone = plot_pixels(page)
    # Keep only the biggest segment: remove every other chosen item of the multi-choice.
    remaining = len(profiles)
    for name in profiles["name_fr"]:
        if name != biggest["name_fr"]:
            item = page.locator(".choices__list--multiple .choices__item", has_text=name).first
            item.locator(".choices__button").click()
            remaining -= 1
            # One removal at a time: the server's echo of a value must not undo the next click.
            page.locator(".swatch").nth(remaining).wait_for(state="detached")
            page.wait_for_timeout(500)
    alone = plot_pixels(page)
    screenshot(page, "panel-explorer-one-segment")
    assert page.locator(".swatch").count() == 1
    assert everyone > 200  # 2 000 customers: a few hundred drawn pixels
    # The segment's points are drawn (before the fix: a fully transparent image).
    assert alone > max(20, 0.05 * everyone), (alone, everyone)


def test_lookup_follows_the_month_and_the_language(page, backfilled):
    pseudonymizer = Pseudonymizer(os.environ["AMAZING_PSEUDONYMIZATION_KEY"].encode())
    value = table(backfilled.warehouse, "customer_value")
    both = set(archetype_customers(backfilled, "loyal_big_spender", EARLIER)) & set(
        archetype_customers(backfilled, "loyal_big_spender", LATEST)
    )
    keyed = {pseudonymizer.token(i): i for i in sorted(both)}
    per_month = value[value["user_key"].isin(keyed)].pivot_table(
        index="user_key", columns="month", values="expected_revenue_90d"
    )
    per_month = per_month.dropna()
    per_month = per_month[per_month[EARLIER].round(2) != per_month[LATEST].round(2)]
    assert len(per_month), "a loyal buyer valued in both months"
    key = per_month.index[0]
    open_page(page, "customer")
    page.get_by_label("Identifiant client", exact=True).fill(keyed[key])
    page.get_by_role("button", name="Rechercher").click()
    card = page.locator("[data-testid=customer-value]")
    card.wait_for()
    assert french_money(per_month.loc[key, LATEST]) in card.inner_text()
    page.get_by_label("Identifiant client", exact=True).fill("")  # no id in the artefacts

    page.locator("select").first.select_option(EARLIER)
    page.locator("[data-testid=customer-value]", has_text=f"({EARLIER})").wait_for()
    assert french_money(per_month.loc[key, EARLIER]) in card.inner_text()

    page.get_by_role("button", name="EN", exact=True).click()
    page.get_by_text("Segment history").wait_for()
    assert "Predicted value" in card.inner_text()
    headers = page.locator("table", has_text=LATEST).last.locator("th").all_inner_texts()
    assert "Month" in [h.strip() for h in headers], headers
    assert "Historique" not in page.locator("body").inner_text()


def test_prediction_form_refuses_bad_input_with_clear_messages(browser, app):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    errors = ConsoleErrors().attach(page)
    page.goto(app.url)
    page.locator("[data-testid=kpi-customers]").wait_for()
    open_page(page, "customer")
    page.locator("[data-testid=predicted-name]").wait_for()

    def type_in(label: str, text: str) -> None:
        field = page.get_by_label(label, exact=True)
        field.fill(text)
        field.press("Enter")

    type_in("Commandes", "abc")
    page.get_by_text("n'est pas un nombre").wait_for()
    body = page.locator("body").inner_text()
    assert "NaN" not in body and "Error" not in body and "must be" not in body
    assert page.locator("[data-testid=predicted-name]").count() == 0
    type_in("Commandes", "")
    page.get_by_text("« Commandes » est vide").wait_for()
    type_in("Commandes", "1")
    type_in("Jours depuis la dernière visite", "-5")
    page.get_by_text("ne peut pas être négatif").wait_for()
    assert page.get_by_label("Jours depuis la dernière visite", exact=True).input_value() == "-5"
    type_in("Jours depuis la dernière visite", "7")
    type_in("Dépense totale (€)", "1000000000000000")
    page.get_by_text(re.compile("« Dépense totale \\(€\\) » : au plus")).wait_for()
    assert page.locator("[data-testid=predicted-name]").count() == 0
    screenshot(page, "panel-prediction-invalid-fr")
    page.get_by_role("button", name="EN", exact=True).click()
    page.get_by_text(re.compile("“Total spend \\(€\\)”: at most")).wait_for()
    type_in("Total spend (€)", "120.5")
    page.locator("[data-testid=predicted-name]").wait_for()
    assert errors.take() == []
    context.close()


def test_value_page_picker_opens_on_buyers_at_risk_and_churn_words_match(page, backfilled):
    value = table(backfilled.warehouse, "customer_value", [LATEST])
    assignments = table(backfilled.warehouse, "kmeans_model/assignments", [LATEST])
    profiles = table(backfilled.warehouse, "cluster_profiles", [LATEST])
    joined = value.merge(assignments, on="user_key")
    risky = joined[joined["churn_risk"] >= 0.5]["segment"].value_counts()
    expected = risky.index[0] if len(risky) else joined["segment"].value_counts().index[0]
    names = profiles.set_index("segment")["name_fr"]

    open_page(page, "value")
    page.locator("[data-testid=value-modelled_buyers]").wait_for()
    picker = page.locator("select").nth(1)
    page.get_by_text(re.compile("Exporter les clients à risque")).wait_for()
    assert picker.locator("option:checked").inner_text() == names[expected]
    if risky.get(expected, 0):
        button = page.get_by_role("button", name=re.compile("Exporter les clients à risque"))
        assert button.is_enabled()
    # A segment with no buyer at risk: an explanation, and an export that cannot be clicked.
    calm = [s for s in profiles["segment"] if s not in risky.index]
    if calm:
        picker.select_option(label=names[calm[0]])
        page.get_by_text("Aucun acheteur de ce segment").wait_for()
        button = page.get_by_role("button", name=re.compile("Exporter les clients à risque"))
        assert re.search(r"— 0$", button.inner_text().strip())
        assert button.is_disabled()
    table_text = page.locator("table", has_text=names.iloc[0]).first.inner_text()
    for row in profiles.dropna(subset=["churn_risk"]).itertuples():
        assert f"{100 * row.churn_risk:.0f}\u202f% ({band_fr(row.churn_risk)})" in table_text
    open_page(page, "overview")
    page.locator("[data-testid=segment-card]").first.wait_for()
    # Overview cards: each churn figure carries the word of its band, and no other band word.
    for row in profiles.dropna(subset=["churn_risk"]).itertuples():
        card = page.locator("[data-testid=segment-card]", has_text=row.name_fr).inner_text()
        shown = f"{100 * row.churn_risk:.0f}\u202f% ({band_fr(row.churn_risk)})"
        assert shown in card, (shown, card)
        if row.churn_risk >= 0.25:
            assert "risque de départ faible" not in card, card

    # The first month has no history to measure departures against: no 0 % stated as a fact.
    page.locator("select").first.select_option(EARLIER)
    open_page(page, "value")
    headline = page.locator("[data-testid=value-churn_risk]", has_text="pas encore mesurable")
    headline.wait_for()
    first = table(backfilled.warehouse, "cluster_profiles", [EARLIER])
    table_text = page.locator("table", has_text=first["name_fr"].iloc[0]).first.inner_text()
    assert table_text.count("pas encore mesurable") == len(first)


def test_segment_export_is_campaign_ready_in_french_and_english(page, backfilled):
    assignments = table(backfilled.warehouse, "kmeans_model/assignments", [LATEST])
    value = table(backfilled.warehouse, "customer_value", [LATEST]).set_index("user_key")
    profiles = table(backfilled.warehouse, "cluster_profiles", [LATEST])
    chosen = profiles.sort_values("size").iloc[0]
    keys = set(assignments.loc[assignments["segment"] == chosen["segment"], "user_key"])
    open_page(page, "profiles")
    page.locator("select").nth(1).select_option(label=chosen["name_fr"])
    page.get_by_role("heading", name=chosen["name_fr"]).wait_for()
    columns = [
        "user_key",
        "segment",
        "month",
        "churn_risk",
        "p_alive",
        "expected_purchases_90d",
        "expected_revenue_90d",
    ]
    labels = {"fr": "Exporter les clés clients (CSV)", "en": "Export customer keys (CSV)"}
    for language, separator, decimal, name in (
        ("fr", ";", ",", chosen["name_fr"]),
        ("en", ",", ".", chosen["name"]),
    ):
        if language == "en":
            page.get_by_role("button", name="EN", exact=True).click()
        # Ready when the button of this language's render is there and the other one is gone:
        # the heading cannot tell (the smallest segment is "Champions" in both languages), and
        # a click on the French button while the page re-renders in English downloads nothing.
        button = page.get_by_role("button", name=re.compile(rf"^{re.escape(labels[language])} — "))
        other = labels["en" if language == "fr" else "fr"]
        button.wait_for()
        page.get_by_role("button", name=re.compile(re.escape(other))).wait_for(state="detached")
        page.get_by_role("heading", name=name).wait_for()
        assert button.count() == 1
        with page.expect_download() as download_info:
            button.click()
        download = download_info.value
        slug = re.sub(
            r"[^a-z0-9]+", "-", name.lower().replace("é", "e").replace("è", "e").replace("à", "a")
        ).strip("-")
        assert download.suggested_filename == f"segment-{slug}-{LATEST}.csv"
        assert "," not in download.suggested_filename
        with open(download.path(), encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter=separator))
        assert list(rows[0]) == columns
        assert {r["user_key"] for r in rows} == keys and len(rows) == len(keys)
        assert {r["segment"] for r in rows} == {name} and {r["month"] for r in rows} == {LATEST}
        for r in rows:
            if r["user_key"] in value.index:
                figure = float(r["churn_risk"].replace(decimal, "."))
                assert figure == pytest.approx(value.loc[r["user_key"], "churn_risk"], abs=1e-4)
                assert "." not in r["churn_risk"] or decimal == "."
            else:
                assert r["churn_risk"] == ""


def test_any_screen_viewport_language_and_folded_sidebar_on_a_phone(browser, app):
    for width, height in ((1366, 900), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(app.url)
        page.locator("[data-testid=kpi-customers]").wait_for()
        viewport = page.locator("meta[name=viewport]")
        assert "width=device-width" in (viewport.get_attribute("content") or "")
        page.wait_for_function("document.documentElement.lang === 'fr'")
        sidebar_open = page.locator("#sidebar").evaluate("e => e.classList.contains('show')")
        assert sidebar_open == (width >= 800), width
        screenshot(page, f"panel-overview-fr-{width}")
        if width < 800:  # the header's toggle opens the folded sidebar
            page.locator("#sidebar-toggle").click()
            page.get_by_role("button", name="EN", exact=True).wait_for(state="visible")
        page.get_by_role("button", name="EN", exact=True).click()
        page.wait_for_function("document.documentElement.lang === 'en'")
        page.locator("[data-testid=kpi-customers]", has_text="Active customers").wait_for()
        screenshot(page, f"panel-overview-en-{width}")
        context.close()


PAGE_LABELS = {  # page key → its sidebar label in each language, and what shows it is drawn
    "overview": ("Vue d'ensemble", "Overview", "[data-testid=segment-card]"),
    "profiles": ("Profils des segments", "Segment profiles", "[data-testid=action-offer]"),
    "explorer": ("Explorateur", "Explorer", ".swatch"),
    "migration": ("Migrations", "Migration", "table.panel-df"),
    "value": ("Valeur client", "Customer value", "[data-testid=value-modelled_buyers]"),
    "quality": ("Qualité des modèles", "Model quality", "[data-testid=quality-minimums]"),
    "outcomes": ("Ça a marché ?", "Did it work?", "[data-testid=verdict]"),
    "customer": ("Client", "Customer", "[data-testid=predicted-name]"),
}
SCREENS = ((1366, 900), (390, 844))


def every_page(browser, app, width: int, height: int, language: str):
    """Yields (page key, Playwright page) for each page of the app, drawn in ``language`` on a
    ``width`` px screen (the sidebar, folded on a phone, is opened to reach the next page)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(app.url)
    page.locator("[data-testid=kpi-customers]").wait_for()
    column = 0 if language == "fr" else 1

    def show_sidebar() -> None:
        if not page.locator("#sidebar").evaluate("e => e.classList.contains('show')"):
            page.locator("#sidebar-toggle").click()
            page.wait_for_timeout(500)  # the sidebar slides in

    try:
        if language == "en":
            show_sidebar()
            page.get_by_role("button", name="EN", exact=True).click()
            page.locator("[data-testid=kpi-customers]", has_text="Active customers").wait_for()
        for key, labels in PAGE_LABELS.items():
            show_sidebar()
            page.get_by_role("button", name=labels[column], exact=True).click()
            page.get_by_role("heading", name=labels[column], exact=True).wait_for()
            page.locator(labels[2]).first.wait_for(state="attached")
            page.wait_for_timeout(1500)  # plots finish drawing
            if width < 800 and page.locator("#sidebar").evaluate(
                "e => e.classList.contains('show')"
            ):
                page.locator("#sidebar-toggle").click()  # scan the page as a phone shows it
                page.wait_for_timeout(500)
            yield key, page
    finally:
        context.close()


THIRD_PARTY = {
    # Panel's MultiChoice draws its chosen items with Choices.js, which puts aria-selected on
    # <div class="choices__item"> without a role: that markup is the library's, not ours.
    ("aria-allowed-attr", '<div class="choices__item'),
}
"""(rule, start of the element's HTML) of violations inside third-party widgets' markup."""


def ours(rule: str, node: dict) -> bool:
    return not any(rule == r and node["html"].startswith(start) for r, start in THIRD_PARTY)


SMALL_TEXT_JS = """
(minimum) => {
  const small = []
  const visit = (root) => {
    for (const element of root.querySelectorAll('*')) {
      if (element.shadowRoot) visit(element.shadowRoot)
      const text = Array.from(element.childNodes)
        .filter(n => n.nodeType === Node.TEXT_NODE)
        .map(n => n.textContent.trim()).join(' ').trim()
      if (!text) continue
      const box = element.getBoundingClientRect()
      if (box.width === 0 || box.height === 0) continue
      if (!element.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) continue
      const size = parseFloat(getComputedStyle(element).fontSize)
      if (size < minimum) {
        const name = `${element.tagName.toLowerCase()}.${element.className}`
        small.push(`${name}: ${size}px «${text.slice(0, 40)}»`)
      }
    }
  }
  visit(document)
  return small
}
"""


TOOLS_JS = """
() => {
  const tools = new Set()
  const visit = (root) => {
    for (const element of root.querySelectorAll('*')) {
      if (element.shadowRoot) visit(element.shadowRoot)
      const icon = Array.from(element.classList).find(c => c.startsWith('bk-tool-icon-'))
      if (icon && element.getBoundingClientRect().width > 0) tools.add(icon.slice(13))
    }
  }
  visit(document)
  return Array.from(tools).sort()
}
"""
TOOLS = {"explorer": ["box-zoom", "reset"]}
"""Chart toolbars' buttons per page: none, but the Explorer's zoom into the cloud of points."""


def test_every_view_passes_axe_with_text_of_12_px_and_trimmed_toolbars(browser, app):
    """Every page, in French and English, on a desktop and a phone screen (each view rendered
    once for the three checks):

    - axe-core: no violation of impact "serious" or "critical" (rule ids and their elements);
    - every visible text computes to >= 12 px (the page's own text and the widgets' text inside
      their shadow roots; text a chart draws on its canvas is not in the DOM);
    - Bokeh toolbars: only the buttons of ``TOOLS``.
    """
    axe_module = pytest.importorskip(
        "axe_playwright_python.sync_playwright",
        reason="axe-playwright-python is not installed (pin: axe-playwright-python==0.1.8)",
    )
    axe = axe_module.Axe()
    failures = {}
    for width, height in SCREENS:
        for language in ("fr", "en"):
            for key, page in every_page(browser, app, width, height, language):
                view = (key, language, width)
                results = axe.run(page)
                serious = {
                    v["id"]: nodes[:5]
                    for v in results.response["violations"]
                    if v["impact"] in ("serious", "critical")
                    and (nodes := [n["target"] for n in v["nodes"] if ours(v["id"], n)])
                }
                if serious:
                    screenshot(page, f"panel-axe-{key}-{language}-{width}")
                    failures[(*view, "axe")] = serious
                small = page.evaluate(SMALL_TEXT_JS, 12)
                if small:
                    failures[(*view, "text under 12 px")] = sorted(set(small))[:8]
                tools = page.evaluate(TOOLS_JS)
                if tools != TOOLS.get(key, []):
                    failures[(*view, "tools")] = tools
    assert failures == {}


def test_profiles_say_how_many_members_are_what_the_name_says(page, backfilled):
    """The pipeline's purity next to the name: a warning under 80 %, nothing for a neutral name."""
    profiles = table(backfilled.warehouse, "cluster_profiles", [LATEST])
    assert "purity" in profiles and profiles["purity"].notna().any()
    open_page(page, "profiles")
    for row in profiles.itertuples():
        page.locator("select").nth(1).select_option(label=row.name_fr)
        page.get_by_role("heading", name=row.name_fr).wait_for()
        if pd.isna(row.purity):
            assert page.get_by_text("ce que dit le nom").count() == 0, row.name_fr
            continue
        share = f"{100 * row.purity:.0f}\u202f%"
        if row.purity < 0.8:
            note = page.get_by_text(f"Attention : seuls {share} des membres")
        else:
            note = page.get_by_text(f"{share} des membres sont, chacun, ce que dit le nom.")
        note.wait_for()

"""The app's charts in a real browser (issue 27): a text alternative under every chart with the
warehouse's numbers, one colour per segment identity on every page, axes in the UI language.

French and English, at 1366 px and 390 px, on the session's two-month pipeline warehouse.
Colours and tick labels are read from the Bokeh models and views the browser drew (tick labels
are canvas text, not DOM); expected numbers come from the warehouse tables, formatted here the
documented way, never by the app's code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from amazing_assets_tests.support.browser import screenshot
from amazing_assets_tests.test_panel_app import EARLIER, LATEST, table

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SCREENS = ((1366, 900), (390, 844))
LANGUAGES = ("fr", "en")
PAGES = {  # page key → sidebar label per language and the chart keys it must show
    "overview": (
        ("Vue d'ensemble", "Overview"),
        [
            "trend-customers",
            "trend-purchasers",
            "trend-revenue",
            "trend-avg_order_value",
            "trend-size",
            "trend-revenue_share",
        ],
    ),
    "profiles": (("Profils des segments", "Segment profiles"), ["profile-z-scores"]),
    "explorer": (("Explorateur", "Explorer"), ["explorer-scatter"]),
    "migration": (("Migrations", "Migration"), ["migration-sankey"]),
    "value": (("Valeur client", "Customer value"), ["value-distribution"]),
}
DATA_TITLE = {"fr": "Données du graphique", "en": "Chart data"}

ALTERNATIVES_JS = """
() => {
  const out = {}
  const visit = (root) => {
    for (const e of root.querySelectorAll('*')) {
      if (e.shadowRoot) visit(e.shadowRoot)
      if (!e.matches('figure.chart-alt')) continue
      const rows = Array.from(e.querySelectorAll('tbody tr'))
      out[e.dataset.chart] = {
        label: e.getAttribute('aria-label'),
        caption: e.querySelector('figcaption').textContent,
        summary: e.querySelector('details summary').textContent,
        columns: Array.from(e.querySelectorAll('thead th')).map(c => c.textContent),
        rows: rows.map(r => Array.from(r.querySelectorAll('td')).map(c => c.textContent)),
        swatches: rows.map(r => {
          const s = r.querySelector('.chart-swatch')
          return s ? [Number(s.dataset.segmentId), s.dataset.colour] : null
        }),
      }
    }
  }
  visit(document)
  return out
}
"""

LEGEND_JS = """
() => {
  const out = []
  const visit = (root) => {
    for (const e of root.querySelectorAll('*')) {
      if (e.shadowRoot) visit(e.shadowRoot)
      if (e.matches('span.swatch'))
        out.push([Number(e.dataset.segmentId), e.dataset.colour])
    }
  }
  visit(document)
  return out
}
"""
"""The Explorer's legend: (segment id, colour) of each swatch (tables use ``chart-swatch``)."""

PLOTS_JS = """
() => {
  const plots = new Map()
  for (const view of Bokeh.index.all_views()) {
    const type = view.model.type
    if (!view.el || !view.el.isConnected) continue
    if (type.endsWith('Axis')) {
      const plot = view.parent.model
      const entry = plots.get(plot.id) ?? {title: plot.title ? plot.title.text : '', axes: {},
                                            glyphs: [], y_start: plot.y_range.start}
      const coords = view.tick_coords.major[view.dimension]
      entry.axes[view.dimension === 0 ? 'x' : 'y'] =
        view.compute_labels(coords).items.map(l => l.text)
      plots.set(plot.id, entry)
    }
  }
  for (const view of Bokeh.index.all_views()) {
    if (view.model.type !== 'GlyphRenderer' || !plots.has(view.parent.model.id)) continue
    const glyph = view.model.glyph, fill = glyph.fill_color
    const data = view.model.data_source.data
    let colours = null
    if (typeof fill === 'string') colours = fill
    else if (fill && fill.value) colours = fill.value
    else if (fill && fill.transform)
      colours = Object.fromEntries(fill.transform.factors.map(
        (f, i) => [f, fill.transform.palette[i % fill.transform.palette.length]]))
    const x = data.month ? Array.from(data.month) : null
    plots.get(view.parent.model.id).glyphs.push({type: glyph.type, colours, x})
  }
  return Array.from(plots.values())
}
"""


def french(value: float, decimals: int = 0) -> str:
    return f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")


def number(value: float, language: str, decimals: int = 0) -> str:
    return french(value, decimals) if language == "fr" else f"{value:,.{decimals}f}"


def money(value: float, language: str) -> str:
    return f"{french(value, 2)} €" if language == "fr" else f"€{value:,.2f}"


def percent(share: float, language: str) -> str:
    return f"{french(100 * share, 1)}\u202f%" if language == "fr" else f"{100 * share:,.1f}%"


class App:
    """One browser page on the app at a screen size and in a language."""

    def __init__(self, browser, app, width: int, height: int, language: str) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.width, self.language = width, language
        self.page.goto(app.url)
        self.page.locator("[data-testid=kpi-customers]").wait_for()
        if language == "en":
            self.sidebar()
            self.page.get_by_role("button", name="EN", exact=True).click()
            self.page.locator("[data-testid=kpi-customers]", has_text="Active customers").wait_for()

    def sidebar(self) -> None:
        if not self.page.locator("#sidebar").evaluate("e => e.classList.contains('show')"):
            self.page.locator("#sidebar-toggle").click()
            self.page.wait_for_timeout(500)

    def open(self, key: str, caption: str = "") -> dict[str, dict]:
        """Shows page ``key`` and returns its charts' alternatives (chart key → content), once
        a chart's caption holds ``caption`` (after a month switch)."""
        labels, charts = PAGES[key]
        label = labels[LANGUAGES.index(self.language)]
        self.sidebar()
        self.page.get_by_role("button", name=label, exact=True).click()
        self.page.get_by_role("heading", name=label, exact=True).wait_for()
        if self.width < 800 and self.page.locator("#sidebar").evaluate(
            "e => e.classList.contains('show')"
        ):
            self.page.locator("#sidebar-toggle").click()
        for chart in charts:
            self.page.locator(f"figure[data-chart={chart}]").wait_for(state="attached")
        if caption:
            self.page.locator("figure.chart-alt figcaption", has_text=caption).first.wait_for(
                state="attached"
            )
        self.page.wait_for_timeout(1500)  # plots finish drawing
        return self.page.evaluate(ALTERNATIVES_JS)

    def plots(self) -> list[dict]:
        return self.page.evaluate(PLOTS_JS)

    def choose_month(self, month: str) -> None:
        self.sidebar()
        self.page.locator("select").first.select_option(month)

    def close(self) -> None:
        self.context.close()


def views(browser, app):
    for width, height in SCREENS:
        for language in LANGUAGES:
            view = App(browser, app, width, height, language)
            try:
                yield view
            finally:
                view.close()


def by_swatch(chart: dict, cells) -> dict:
    """A segment chart's table as segment id (its swatch) → the row's ``cells``."""
    return {s[0]: row[cells] for row, s in zip(chart["rows"], chart["swatches"], strict=True)}


def check_overview(alternatives: dict, language: str, kpis: pd.DataFrame, history: pd.DataFrame):
    for name, shown in (
        ("customers", number),
        ("purchasers", number),
        ("revenue", money),
        ("avg_order_value", money),
    ):
        expected = [[m, shown(float(kpis.at[m, name]), language)] for m in kpis.index]
        assert alternatives[f"trend-{name}"]["rows"] == expected, name
    months = sorted(history["month"].unique())
    for column, shown in (("size", number), ("revenue_share", percent)):
        chart = alternatives[f"trend-{column}"]
        assert chart["columns"][1:] == months
        rows = by_swatch(chart, slice(1, None))
        values = history.pivot_table(index="segment_id", columns="month", values=column)
        expected = {
            int(i): [
                shown(float(values.at[i, m]), language) if pd.notna(values.at[i, m]) else "—"
                for m in months
            ]
            for i in values.index
        }
        assert rows == expected, column


def test_every_chart_has_a_text_alternative_with_the_warehouse_numbers(browser, app, backfilled):
    warehouse = backfilled.warehouse
    kpis = table(warehouse, "monthly_kpis").set_index("month").sort_index()
    history = table(warehouse, "cluster_profiles")
    latest = history[history["month"] == LATEST].sort_values("size", ascending=False)
    coordinates = table(warehouse, "pca_embedding/coordinates", [LATEST])
    assignments = table(warehouse, "kmeans_model/assignments", [LATEST])
    shown_customers = assignments.merge(coordinates[["user_key"]], on="user_key")
    flows = table(warehouse, "segment_migration", [LATEST])
    revenue = table(warehouse, "customer_value", [LATEST])["expected_revenue_90d"].to_numpy()
    cap = np.quantile(revenue, 0.99)
    bins, _ = np.histogram(np.minimum(revenue, cap), bins=40)
    for view in views(browser, app):
        language = view.language
        name = "name_fr" if language == "fr" else "name"
        where = f"{language}-{view.width}"
        found = {}
        for key, (_labels, charts) in PAGES.items():
            alternatives = view.open(key)
            screenshot(view.page, f"panel-charts-{key}-{where}")
            # Every chart drawn has its alternative, and every alternative says what it shows.
            drawn = [p for p in view.plots() if p["glyphs"]]
            assert sorted(alternatives) == sorted(charts), (key, where)
            assert len(drawn) == len(charts), (key, where, [p["title"] for p in drawn])
            for chart in alternatives.values():
                assert chart["caption"] and chart["label"]
                assert chart["summary"].startswith(DATA_TITLE[language])
            found.update(alternatives)
        check_overview(found, language, kpis, history)
        top = latest.iloc[0]  # the profiles page opens on the biggest segment
        z_columns = [c for c in history.columns if c.startswith("z_")]
        z = found["profile-z-scores"]
        assert [row[1] for row in z["rows"]] == [number(top[c], language, 2) for c in z_columns]
        assert top[name] in z["caption"]
        scatter = found["explorer-scatter"]
        counts = shown_customers.groupby("segment").size()
        by_id = dict(zip(latest["segment_id"], latest["segment"], strict=True))
        assert by_swatch(scatter, 1) == {
            int(i): number(counts[by_id[i]], language) for i in latest["segment_id"]
        }
        sankey = found["migration-sankey"]
        assert sorted(int(r[2].replace("\u202f", "").replace(",", "")) for r in sankey["rows"]) == (
            sorted(flows["customers"].astype(int))
        )
        assert number(int(flows["customers"].sum()), language) in sankey["caption"]
        histogram = found["value-distribution"]
        assert [row[1] for row in histogram["rows"]] == [number(n, language) for n in bins]
        assert number(len(revenue), language) in histogram["caption"]


def identity_colours_on(view: App, latest: pd.DataFrame, name: str) -> dict[str, dict[int, str]]:
    """Each page's colour per segment id of the month: the overview's bars (Bokeh colour map,
    by name) and table swatches, the Explorer's legend, each profile's bars."""
    ids = dict(zip(latest[name], latest["segment_id"].astype(int), strict=True))
    seen: dict[str, dict[int, str]] = {}
    alternatives = view.open("overview")
    bars = next(p for p in view.plots() if p["title"] in ("Taille des segments", "Segment sizes"))
    colour_map = next(g["colours"] for g in bars["glyphs"] if isinstance(g["colours"], dict))
    seen["overview bars"] = {ids[n]: c for n, c in colour_map.items() if n in ids}
    seen["overview table"] = {
        s[0]: s[1] for s in alternatives["trend-size"]["swatches"] if s[0] in ids.values()
    }
    alternatives = view.open("explorer")
    seen["explorer legend"] = dict(view.page.evaluate(LEGEND_JS))
    seen["explorer table"] = dict(alternatives["explorer-scatter"]["swatches"])
    view.open("profiles")
    select = view.page.locator("select").nth(1)
    profiles = {}
    for segment_name, identity in ids.items():
        select.select_option(label=segment_name)
        view.page.get_by_role("heading", name=segment_name).wait_for()
        view.page.wait_for_timeout(1000)
        bars = [g for p in view.plots() for g in p["glyphs"] if g["type"] == "HBar"]
        assert len(bars) == 1, segment_name
        profiles[identity] = bars[0]["colours"]
    seen["profiles"] = profiles
    return seen


def test_one_segment_identity_has_one_colour_on_every_page_month_and_language(
    browser, app, backfilled
):
    history = table(backfilled.warehouse, "cluster_profiles")
    by_language = {}
    for language in LANGUAGES:
        view = App(browser, app, 1366, 900, language)
        try:
            name = "name_fr" if language == "fr" else "name"
            latest = history[history["month"] == LATEST]
            seen = identity_colours_on(view, latest, name)
            screenshot(view.page, f"panel-charts-colours-{language}")
            view.choose_month(EARLIER)
            earlier = dict(view.open("explorer", f"({EARLIER})")["explorer-scatter"]["swatches"])
        finally:
            view.close()
        expected = set(latest["segment_id"].astype(int))
        for where, colours in seen.items():
            assert set(colours) == expected, (where, language)
        reference = seen["overview table"]
        assert all(colours == reference for colours in seen.values()), (language, seen)
        assert len(set(reference.values())) == len(reference), "segments of a month share a colour"
        continuing = set(earlier) & set(reference)
        assert continuing, "an identity present in both months"
        assert {i: earlier[i] for i in continuing} == {i: reference[i] for i in continuing}
        by_language[language] = reference
    assert by_language["fr"] == by_language["en"]


def test_axes_group_thousands_carry_euros_and_percents_start_at_zero_and_mark_the_month(
    browser, app
):
    for view in views(browser, app):
        language, where = view.language, f"{view.language}-{view.width}"
        view.open("overview")
        plots = {p["title"]: p for p in view.plots()}
        titles = (
            ("Clients actifs", "Chiffre d'affaires", "Panier moyen", "Part du CA par segment")
            if language == "fr"
            else (
                "Active customers",
                "Revenue",
                "Average order value",
                "Share of revenue by segment",
            )
        )
        customers, revenue, basket, share = (plots[t] for t in titles)
        group = "\u202f" if language == "fr" else ","
        for money_plot in (revenue, basket):
            labels = money_plot["axes"]["y"]
            assert all(
                label.endswith(" €") if language == "fr" else label.startswith("€")
                for label in labels
            ), (where, labels)
        assert any(group in label for label in revenue["axes"]["y"]), (where, revenue["axes"])
        assert any(group in label for label in customers["axes"]["y"]), (where, customers["axes"])
        labels = share["axes"]["y"]
        assert all(label.endswith("%") for label in labels), (where, labels)
        assert labels[-1] in ("100\u202f%", "100%"), labels
        for line in (customers, revenue, basket):
            assert line["y_start"] == 0, (where, line["title"])
            marked = [g for g in line["glyphs"] if g["colours"] == "#cf222e"]
            assert [g["x"] for g in marked] == [[LATEST]], (where, line["title"])
        view.open("value")
        histogram = next(p for p in view.plots() if p["glyphs"])
        assert all("€" in label for label in histogram["axes"]["x"]), histogram["axes"]
        screenshot(view.page, f"panel-charts-axes-{where}")
        if view.width > 800 and language == "fr":  # the mark follows the chosen month
            view.choose_month(EARLIER)
            view.open("overview", f"{EARLIER}, mois choisi")
            lines = [p for p in view.plots() if p["title"] == "Clients actifs"]
            marked = [g["x"] for g in lines[-1]["glyphs"] if g["colours"] == "#cf222e"]
            assert marked == [[EARLIER]]

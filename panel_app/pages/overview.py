"""Overview: the month's KPIs, trends across all months, segment cards and what changed."""

from __future__ import annotations

import html

import pandas as pd
import panel as pn

from amazing_assets.lib.months import add_months
from panel_app import data
from panel_app.axes import Kind
from panel_app.changes import segment_changes
from panel_app.chart_data import with_alternative
from panel_app.definitions_text import definition_sentence
from panel_app.figures import churn_shown
from panel_app.i18n import format_change, format_money, format_number, format_percent, localized
from panel_app.pages.base import Page
from panel_app.pages.style import CARD_CSS, NOTICE_CSS
from panel_app.pages.trend_charts import kpi_trend, segment_stack
from panel_app.pages.value import value_action
from panel_app.verdict_text import (
    CHANGES_FROM_DATA,
    verdict_parts,
    window_filling,
    window_sentence,
)

VERDICT_STYLES = {"comparable": "success", "caution": "", "first_month": "info"}

KPI_FORMATS = {
    "customers": "count",
    "purchasers": "count",
    "revenue": "money",
    "orders": "count",
    "avg_order_value": "money",
}
TREND_KPIS = ("customers", "purchasers", "revenue", "avg_order_value")
STACKED_TRENDS: tuple[tuple[str, Kind, str], ...] = (
    ("size", "count", "segment_sizes"),
    ("revenue_share", "percent", "segment_revenue"),
)
"""Segment bars: the column stacked, its axis and its title's label."""
TREND_KINDS: dict[str, Kind] = {
    name: "money" if KPI_FORMATS[name] == "money" else "count" for name in TREND_KPIS
}


class Overview(Page):
    def view(self) -> pn.viewable.Viewable:
        state = self.state
        if not state.month:
            return self.empty_warehouse()
        notice = self.not_segmented_notice()
        verdict = self.verdict_box()
        return pn.Column(
            *([verdict] if verdict is not None else []),
            *([notice] if notice is not None else []),
            pn.pane.Markdown(f"### {state.t('month_activity').format(month=state.month)}"),
            pn.pane.HTML(self.kpi_cards(), stylesheets=[CARD_CSS], sizing_mode="stretch_width"),
            pn.pane.Markdown(f"### {state.t('changes')}"),
            pn.pane.HTML(self.changes(), sizing_mode="stretch_width"),
            pn.pane.Markdown(f"### {self.segments_heading()}"),
            pn.pane.HTML(self.segment_cards(), stylesheets=[CARD_CSS], sizing_mode="stretch_width"),
            pn.pane.Markdown(f"### {state.t('trends')}"),
            # Six Bokeh charts would double the first page's render; they load right after it.
            pn.panel(self.trends, defer_load=True, loading_indicator=True),
            sizing_mode="stretch_width",
        )

    def kpi_cards(self) -> str:
        state, language = self.state, self.state.language
        current = data.kpis(state.warehouse_uri, state.month)
        if current is None:
            return f"<p>{html.escape(state.t('no_data'))}</p>"
        before = state.previous_month
        previous = data.kpis(state.warehouse_uri, before) if before else None
        cards = []
        for name, kind in KPI_FORMATS.items():
            value = float(current[name])
            shown = (
                format_money(value, language) if kind == "money" else format_number(value, language)
            )
            change = format_change(value, float(previous[name]) if previous else None, language)
            cards.append(
                f'<div class="card kpi" data-testid="kpi-{name}">'
                f'<div class="label">{html.escape(state.t(name))}</div>'
                f'<div class="value">{shown}</div>'
                f'<div class="note">{html.escape(change)}</div></div>'
            )
        return f'<div class="cards">{"".join(cards)}</div>'

    def segment_cards(self) -> str:
        state, language = self.state, self.state.language
        cards = []
        for row in data.profiles(state.warehouse_uri, state.month).to_dict("records"):
            figures = [
                f"{state.t('size')} : {format_number(row['size'], language)}",
                f"{format_percent(row['share'], language)}",
                f"{state.t('revenue_share')} : {format_percent(row['revenue_share'], language)}",
            ]
            value = ""
            if pd.notna(row.get("churn_risk")):
                measurable = state.previous_month is not None
                figures.append(
                    f"{state.t('churn_risk')} : "
                    f"{churn_shown(row['churn_risk'], language, measurable)}"
                )
                figures.append(
                    f"{state.t('expected_revenue_90d')} : "
                    f"{format_money(row['expected_revenue_90d'], language)}"
                )
            if row.get("value_action"):
                value = (
                    f'<div class="action" data-testid="value-action">→ '
                    f"{html.escape(value_action(row, language))}</div>"
                )
            cards.append(
                f'<div class="card segment" data-testid="segment-card">'
                f'<div class="value">{html.escape(localized(row, "name", language))}</div>'
                f'<div class="note">{html.escape(" · ".join(figures))}</div>'
                f'<div class="label">{html.escape(localized(row, "description", language))}</div>'
                f'<div class="label" data-testid="card-definition">'
                f"{html.escape(definition_sentence(row['name'], language))}</div>"
                f"{value}</div>"
            )
        return f'<div class="cards">{"".join(cards)}</div>'

    def segments_heading(self) -> str:
        """Segments count the customers of the feature window, not of the month: say which."""
        rows = data.month_verdict(self.state.warehouse_uri, self.state.month)
        window = None if rows is None else rows[rows["aspect"] == "window_months"]
        if window is None or window.empty:
            return self.state.t("segments")
        length = int(window["threshold"].iloc[0])
        first = add_months(self.state.month, 1 - length)
        return self.state.t("segments_window").format(
            window=length, first=first, last=self.state.month
        )

    def verdict_box(self) -> pn.viewable.Viewable | None:
        """The pipeline's verdict on the month, first on the page: can it be compared with the
        last, and which data causes (a cut export, bots, a remap, a filling window) say not."""
        rows = data.month_verdict(self.state.warehouse_uri, self.state.month)
        if rows is None:
            return None
        verdict, title, sentences = verdict_parts(rows, self.state.language)
        items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
        return pn.pane.HTML(
            f'<div class="notice {VERDICT_STYLES[verdict]}" role="status" '
            f'data-testid="month-verdict" data-verdict="{verdict}">'
            f"<strong>{html.escape(title)}</strong>{f'<ul>{items}</ul>' if items else ''}</div>",
            stylesheets=[NOTICE_CSS],
            sizing_mode="stretch_width",
        )

    def changes(self) -> str:
        state, language = self.state, self.state.language
        history = data.profile_history(state.warehouse_uri)
        current = data.month_verdict(state.warehouse_uri, state.month)
        before = state.previous_month
        filling = window_filling(current) or window_filling(
            data.month_verdict(state.warehouse_uri, before) if before else None
        )
        notes = []
        if filling is not None and before:
            notes.append(window_sentence(filling, language))
        if current is not None and (current["status"] == "warn").any() and before:
            notes.append(CHANGES_FROM_DATA[language])
        items = "".join(
            f'<li data-testid="segment-change">{html.escape(sentence)}</li>'
            for _, sentence in segment_changes(
                history, state.month, before, language, compare_sizes=filling is None
            )
        )
        caveats = "".join(
            f'<p class="caveat" data-testid="changes-caveat">{html.escape(n)}</p>' for n in notes
        )
        return f"{caveats}<ul>{items}</ul>"

    def trends(self) -> pn.viewable.Viewable:
        """KPI lines and segment sizes / revenue shares per month (stacked bars), all months,
        each chart followed by its text alternative (``panel_app/chart_data.py``)."""
        state, language, month = self.state, self.state.language, self.state.month or ""
        kpis = data.kpi_history(state.warehouse_uri)
        history = data.profile_history(state.warehouse_uri)
        colours = data.segment_colours(state.warehouse_uri)
        lines = [kpi_trend(kpis, name, TREND_KINDS[name], month, language) for name in TREND_KPIS]
        stacked = [
            segment_stack(history, column, kind, title, month, language, colours)
            for column, kind, title in STACKED_TRENDS
        ]
        return pn.Column(
            pn.GridBox(
                *[with_alternative(plot, chart, language) for plot, chart in lines],
                ncols=2,
                sizing_mode="stretch_width",
            ),
            *[with_alternative(plot, chart, language) for plot, chart in stacked],
            sizing_mode="stretch_width",
            css_classes=["trends"],
        )

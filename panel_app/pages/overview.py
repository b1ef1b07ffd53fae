"""Overview: the month's KPIs against the previous month, and one card per segment."""

from __future__ import annotations

import html

import panel as pn

from panel_app import data
from panel_app.i18n import format_change, format_money, format_number, format_percent, localized
from panel_app.pages.base import Page
from panel_app.pages.style import CARD_CSS

KPI_FORMATS = {
    "customers": "count",
    "purchasers": "count",
    "revenue": "money",
    "orders": "count",
    "avg_order_value": "money",
}


class Overview(Page):
    def view(self) -> pn.viewable.Viewable:
        state = self.state
        if not state.month:
            return self.empty_warehouse()
        return pn.Column(
            pn.pane.HTML(self.kpi_cards(), stylesheets=[CARD_CSS], sizing_mode="stretch_width"),
            pn.pane.Markdown(f"### {state.t('segments')}"),
            pn.pane.HTML(self.segment_cards(), stylesheets=[CARD_CSS], sizing_mode="stretch_width"),
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
            figures = " · ".join(
                [
                    f"{state.t('size')} : {format_number(row['size'], language)}",
                    f"{format_percent(row['share'], language)}",
                    f"{state.t('revenue_share')} : "
                    f"{format_percent(row['revenue_share'], language)}",
                ]
            )
            cards.append(
                f'<div class="card segment" data-testid="segment-card">'
                f'<div class="value">{html.escape(localized(row, "name", language))}</div>'
                f'<div class="note">{html.escape(figures)}</div>'
                f'<div class="label">{html.escape(localized(row, "description", language))}</div>'
                "</div>"
            )
        return f'<div class="cards">{"".join(cards)}</div>'

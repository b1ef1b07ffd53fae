"""Customer value: the distribution of predicted value, the top customers, churn risk by segment.

Everything shown is per pseudonymous key (``customer_value`` holds no raw id); exports are the
campaign tool's input, as on the profiles page.
"""

from __future__ import annotations

import html
import io
import itertools

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn

from amazing_assets.defs.segments.value_summary import VALUE_ACTIONS
from amazing_assets.defs.value.churn_bands import HIGH_CHURN
from panel_app import data, exports
from panel_app.axes import tick_formatter
from panel_app.chart_data import ChartData, with_alternative
from panel_app.figures import churn_shown
from panel_app.i18n import format_money, format_number, format_percent, localized
from panel_app.pages.base import Page
from panel_app.pages.quality import hidden_predictions_notice
from panel_app.pages.style import CARD_CSS
from panel_app.tables import table_pane

SHOWN_ROWS = 20
FIGURES = ("p_alive", "churn_risk", "expected_purchases_90d", "expected_revenue_90d")


class CustomerValue(Page):
    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.segment = self.segment_selector()
        # The at-risk picker opens on the segment with the most buyers at risk (never on one
        # without buyers), again after each month change.
        self.state.param.watch(self._pick_riskiest, ["month"])
        self._pick_riskiest()

    def _pick_riskiest(self, *_events) -> None:
        state = self.state
        if not state.month or not data.has_value(state.warehouse_uri, state.month):
            return
        values = data.customer_values(state.warehouse_uri, state.month)
        risky = values.loc[values["churn_risk"] >= HIGH_CHURN, "segment"].dropna()
        buyers = values["segment"].dropna()
        counts = (risky if len(risky) else buyers).astype(int).value_counts()
        if len(counts) and int(counts.index[0]) in self.segment.options.values():
            self.segment.value = int(counts.index[0])

    def view(self) -> pn.viewable.Viewable:
        state = self.state
        if not state.month:
            return self.empty_warehouse()
        if not data.has_value(state.warehouse_uri, state.month):  # why: below the minimums?
            return hidden_predictions_notice(state.warehouse_uri, state.month, state.language)
        values = data.customer_values(state.warehouse_uri, state.month)
        return pn.Column(
            pn.pane.Markdown(state.t("value_help")),
            pn.pane.HTML(
                self.headline(values), stylesheets=[CARD_CSS], sizing_mode="stretch_width"
            ),
            with_alternative(*self.distribution(values), state.language),
            pn.pane.Markdown(f"### {state.t('top_customers')}"),
            self.top(values),
            pn.pane.Markdown(f"### {state.t('churn_by_segment')}"),
            table_pane(self.by_segment(), state.t("segment")),
            self.segment,
            pn.panel(pn.bind(self.at_risk, self.segment), loading_indicator=True),
            sizing_mode="stretch_width",
        )

    def headline(self, values: pd.DataFrame) -> str:
        state, language = self.state, self.state.language
        cards = {
            "modelled_buyers": format_number(len(values), language),
            "expected_revenue_90d": format_money(values["expected_revenue_90d"].sum(), language),
            "churn_risk": churn_shown(
                values["churn_risk"].mean(), language, state.previous_month is not None
            ),
            "expected_order_value": format_money(values["expected_order_value"].median(), language),
        }
        return (
            '<div class="cards">'
            + "".join(
                f'<div class="card kpi" data-testid="value-{key}">'
                f'<div class="label">{html.escape(state.t(key))}</div>'
                f'<div class="value">{shown}</div></div>'
                for key, shown in cards.items()
            )
            + "</div>"
        )

    def distribution(self, values: pd.DataFrame) -> tuple[hv.Histogram, ChartData]:
        """Histogram of expected 90-day revenue; the top 1 % is cut so the bulk stays readable
        (it is counted in the last bar), with its table of bars."""
        state, language = self.state, self.state.language
        revenue = values["expected_revenue_90d"].to_numpy()
        cap = float(np.quantile(revenue, 0.99)) if len(revenue) else 0.0
        counts, edges = np.histogram(np.minimum(revenue, cap), bins=40)
        plot = hv.Histogram((edges, counts)).opts(
            title=state.t("value_distribution"),
            xlabel="€ (90 j)" if language == "fr" else "€ (90 days)",
            ylabel=state.t("modelled_buyers"),
            height=300,
            responsive=True,
            color="#0969da",
            line_color="white",
            xformatter=tick_formatter("money", language),
            yformatter=tick_formatter("count", language),
            toolbar=None,  # no toolbar (issue 27)
        )
        bars = [
            f"{format_money(low, language)} – {format_money(high, language)}"
            for low, high in itertools.pairwise(edges[:-1])
        ] + [f"≥ {format_money(edges[-2], language)}"]
        chart = ChartData(
            key="value-distribution",
            title=state.t("value_distribution"),
            summary=state.t("histogram_summary").format(
                buyers=format_number(len(revenue), language),
                median=format_money(float(np.median(revenue)) if len(revenue) else 0.0, language),
                cap=format_money(cap, language),
            ),
            columns=[state.t("value_range"), state.t("modelled_buyers")],
            rows=[
                [bar, format_number(int(n), language)] for bar, n in zip(bars, counts, strict=True)
            ],
        )
        return plot, chart

    def _table(self, frame: pd.DataFrame) -> pd.DataFrame:
        state, language = self.state, self.state.language
        names = self.segment_names()
        return pd.DataFrame(
            {
                state.t("user_key"): frame["user_key"],
                # A buyer inactive for the whole feature window is in no segment this month.
                state.t("segment"): frame["segment"].map(names).fillna("—"),
                state.t("p_alive"): [format_percent(v, language, 0) for v in frame["p_alive"]],
                state.t("expected_purchases_90d"): [
                    format_number(v, language, 2) for v in frame["expected_purchases_90d"]
                ],
                state.t("expected_revenue_90d"): [
                    format_money(v, language) for v in frame["expected_revenue_90d"]
                ],
            }
        )

    def segment_names(self) -> dict[int, str]:
        return {number: name for name, number in self.segment_options().items()}

    def _export(self, frame: pd.DataFrame, label: str, words: str) -> pn.widgets.FileDownload:
        """A campaign-ready CSV of ``frame``'s customers (see :mod:`panel_app.exports`),
        disabled when there is no row to export."""
        state = self.state
        month, language = state.month or "", state.language
        rows = exports.campaign_frame(frame, self.segment_names(), month)
        return pn.widgets.FileDownload(
            callback=lambda: io.StringIO(exports.to_csv(rows, language)),
            filename=exports.file_name(words, month),
            label=f"{label} — {format_number(len(frame), language)}",
            button_type="primary",
            embed=False,
            disabled=len(frame) == 0,
        )

    def top(self, values: pd.DataFrame) -> pn.viewable.Viewable:
        state = self.state
        top = data.top_customers(values)
        return pn.Column(
            table_pane(
                self._table(top.head(SHOWN_ROWS)), state.t("export_top"), name="top-customers"
            ),
            self._export(top, state.t("export_top"), state.t("file_top_customers")),
            sizing_mode="stretch_width",
        )

    def by_segment(self) -> pd.DataFrame:
        state, language = self.state, self.state.language
        profiles = data.profiles(state.warehouse_uri, state.month)
        rows = []
        for row in profiles.to_dict("records"):
            churn = row.get("churn_risk")
            rows.append(
                {
                    state.t("segment"): localized(row, "name", language),
                    state.t("modelled_buyers"): format_number(
                        row.get("modelled_buyers") or 0, language
                    ),
                    state.t("churn_risk"): churn_shown(
                        churn, language, state.previous_month is not None
                    ),
                    state.t("expected_revenue_90d"): format_money(
                        row.get("expected_revenue_90d") or 0.0, language
                    ),
                    state.t("value_action"): value_action(row, language),
                }
            )
        return pd.DataFrame(rows)

    def at_risk(self, segment: int | None) -> pn.viewable.Viewable:
        state = self.state
        if segment is None:
            return pn.pane.Markdown("")
        values = data.customer_values(state.warehouse_uri, state.month)
        chosen = data.at_risk(values, int(segment), HIGH_CHURN)
        name = self.segment_names().get(int(segment), str(segment))
        shown: pn.viewable.Viewable = (
            table_pane(
                self._table(chosen.head(SHOWN_ROWS)), state.t("at_risk_customers"), name="at-risk"
            )
            if len(chosen)
            else pn.pane.Alert(state.t("no_at_risk"), alert_type="info")
        )
        return pn.Column(
            pn.pane.Markdown(f"**{state.t('at_risk_customers')}**"),
            shown,
            self._export(chosen, state.t("export_at_risk"), f"{state.t('file_at_risk')} {name}"),
            sizing_mode="stretch_width",
        )


def value_action(row: dict, language: str) -> str:
    """The segment's value action in the current wording (its words match the churn bands),
    from the stored priority; the stored text when an older table has no priority."""
    priority = row.get("value_priority")
    if isinstance(priority, str) and priority in VALUE_ACTIONS:
        english, french = VALUE_ACTIONS[priority]
        return french if language == "fr" else english
    return localized(row, "value_action", language) if row.get("value_action") else ""

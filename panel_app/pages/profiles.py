"""Segment profiles: medians, a z-score chart, the recommended action and the key export."""

from __future__ import annotations

import html
import io

import hvplot.pandas  # noqa: F401  (registers .hvplot)
import pandas as pd
import panel as pn

from panel_app import data, exports
from panel_app.axes import tick_formatter
from panel_app.chart_data import ChartData, with_alternative
from panel_app.colours import NO_SEGMENT_COLOUR
from panel_app.definitions_text import definition_sentence
from panel_app.figures import churn_shown
from panel_app.i18n import (
    MEDIAN_LABELS,
    format_money,
    format_number,
    format_percent,
    localized,
    purity_sentence,
)
from panel_app.pages.base import Page
from panel_app.pages.style import CARD_CSS
from panel_app.tables import table_pane

ACTION_FIELDS = ("channel", "offer", "timing", "kpi")
COMPARED_MEDIANS = ("frequency", "recency_days", "monetary", "avg_order_value", "n_views")
"""The medians the comparison shows: what the names are about (orders, recency, spend, basket,
browsing)."""


class SegmentProfiles(Page):
    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.segment = self.segment_selector()

    def view(self) -> pn.viewable.Viewable:
        if not self.state.month:
            return self.empty_warehouse()
        return pn.Column(
            pn.pane.Markdown(f"### {self.state.t('segments_compared')}"),
            self.comparison(),
            self.segment,
            pn.panel(pn.bind(self.segment_view, self.segment), loading_indicator=True),
            sizing_mode="stretch_width",
        )

    def comparison(self) -> pn.viewable.Viewable:
        """Every segment of the month side by side: size, revenue share, churn, value, medians."""
        state, language = self.state, self.state.language
        frame = data.profiles(state.warehouse_uri, state.month)
        measurable = state.previous_month is not None
        columns: dict[str, list[str]] = {state.t("segment"): [], state.t("size"): []}
        for row in frame.to_dict("records"):
            cells = {
                state.t("segment"): localized(row, "name", language),
                state.t("size"): format_number(row["size"], language),
                state.t("share"): format_percent(row["share"], language),
                state.t("revenue_share"): format_percent(row["revenue_share"], language),
                state.t("churn_risk"): churn_shown(row.get("churn_risk"), language, measurable)
                if pd.notna(row.get("churn_risk"))
                else "—",
                state.t("expected_revenue_90d"): format_money(row["expected_revenue_90d"], language)
                if pd.notna(row.get("expected_revenue_90d"))
                else "—",
                **{
                    MEDIAN_LABELS[c][language]: format_number(row[f"median_{c}"], language)
                    for c in COMPARED_MEDIANS
                },
            }
            for key, value in cells.items():
                columns.setdefault(key, []).append(value)
        return table_pane(pd.DataFrame(columns), state.t("segments_compared"))

    def segment_view(self, segment: int | None) -> pn.viewable.Viewable:
        state, language = self.state, self.state.language
        frame = data.profiles(state.warehouse_uri, state.month)
        chosen = frame[frame["segment"] == segment]
        if segment is None or chosen.empty:
            return pn.pane.Markdown("")
        row = chosen.iloc[0].to_dict()
        name = localized(row, "name", language)
        medians = pd.DataFrame(
            {
                state.t("medians"): [MEDIAN_LABELS[c][language] for c in MEDIAN_LABELS],
                name: [
                    format_number(row[f"median_{c}"], language, 2 if "rate" in c else 0)
                    for c in MEDIAN_LABELS
                ],
            }
        )
        z_columns = [c for c in frame.columns if c.startswith("z_")]
        z_scores = pd.DataFrame(
            {
                "feature": [MEDIAN_LABELS[c[2:]][language] for c in z_columns],
                "z": [float(row[c]) for c in z_columns],
            }
        )
        colour = self.segment_colours().get(int(segment), NO_SEGMENT_COLOUR)
        chart = z_scores.hvplot.barh(
            x="feature",
            y="z",
            title=state.t("z_scores"),
            xlabel="",
            ylabel="z",
            height=320,
            responsive=True,
            color=colour,  # the segment identity's colour, as on the overview and the explorer
            xformatter=tick_formatter("decimal", language),  # barh: z runs along x
        ).opts(toolbar=None)  # hover stays, no toolbar (issue 27)
        z_data = z_chart_data(z_scores, name, state.t, language)
        actions = "".join(
            f'<div class="card" data-testid="action-{field}"><div class="label">'
            f"{html.escape(state.t(field))}</div><div>"
            f"{html.escape(localized(row, field, language))}</div></div>"
            for field in ACTION_FIELDS
        )
        export = self.export_widgets(int(segment))
        month = state.month or ""
        names = {int(r["segment"]): localized(r, "name", language) for _, r in frame.iterrows()}

        def campaign_csv() -> io.StringIO:
            customers = data.segment_customers(state.warehouse_uri, month, int(segment))
            rows = exports.campaign_frame(customers, names, month)
            return io.StringIO(exports.to_csv(rows, language))

        campaign_export = pn.widgets.FileDownload(
            callback=campaign_csv,
            filename=exports.file_name(f"{state.t('file_segment')} {name}", month),
            label=f"{state.t('export')} — {format_number(row['size'], language)}",
            button_type="primary",
            embed=False,
            disabled=int(row["size"]) == 0,
        )
        return pn.Column(
            pn.pane.Markdown(f"## {html.escape(name)}\n{localized(row, 'description', language)}"),
            pn.pane.HTML(
                f'<p data-testid="segment-definition"><strong>{html.escape(state.t("definition"))}'
                f"</strong>{' : ' if language == 'fr' else ': '}"
                f"{html.escape(definition_sentence(row['name'], language))}</p>",
                sizing_mode="stretch_width",
            ),
            *self.purity_note(row),
            pn.Row(
                table_pane(medians, name, width=380, sizing_mode="fixed"),
                with_alternative(chart, z_data, language),
                sizing_mode="stretch_width",
            ),
            pn.pane.Markdown(f"### {state.t('actions')}"),
            pn.pane.HTML(
                f'<div class="cards">{actions}</div>',
                stylesheets=[CARD_CSS],
                sizing_mode="stretch_width",
            ),
            *export,
            campaign_export,
            pn.pane.Markdown(f"{state.t('export_help')} {state.t('export_columns')}"),
            sizing_mode="stretch_width",
        )

    def purity_note(self, row: dict) -> list[pn.viewable.Viewable]:
        """How many members are what the name says, each on their own (the pipeline's
        ``purity``); a warning under the floor, nothing for a neutral name."""
        said = purity_sentence(row.get("purity"), self.state.language)
        if said is None:
            return []
        text, low = said
        if low:
            return [pn.pane.Alert(text, alert_type="warning", name="purity")]
        return [pn.pane.Markdown(text, name="purity")]

    def export_widgets(self, segment: int) -> list[pn.viewable.Viewable]:
        """The recorded audience (targets and held-out controls) when the pipeline made one;
        otherwise a warning that the campaign export below it cannot be measured (one key
        export per segment: a second button with the same label left users guessing)."""
        state, language = self.state, self.state.language
        entry = data.export_entry(state.warehouse_uri, state.month, segment)
        if entry is None:
            return [pn.pane.Alert(state.t("export_unmeasured"), alert_type="warning")]
        measured = pn.widgets.FileDownload(
            callback=lambda: io.StringIO(
                data.audience_csv(state.warehouse_uri, state.month, segment)
            ),
            filename=f"audience-{entry['export_id']}.csv",
            label=f"{state.t('export_measured')} — {format_number(entry['customers'], language)}",
            button_type="primary",
            embed=False,
        )
        sizes = state.t("export_sizes").format(
            targets=format_number(entry["targets"], language),
            controls=format_number(entry["controls"], language),
            share=format_percent(entry["control_share"], language, 0),
            export_id=entry["export_id"],
        )
        return [
            measured,
            pn.pane.HTML(
                f'<div data-testid="export-sizes">{html.escape(sizes)}</div>',
                sizing_mode="stretch_width",
            ),
            pn.pane.Markdown(f"{state.t('export_measured_help')} {state.t('export_help')}"),
        ]


def z_chart_data(z_scores: pd.DataFrame, name: str, t, language: str) -> ChartData:
    """The z-score bars as a table (feature, z) and the features furthest above and below."""
    high, low = z_scores["z"].idxmax(), z_scores["z"].idxmin()
    return ChartData(
        key="profile-z-scores",
        title=t("z_scores"),
        summary=t("z_summary").format(
            segment=name,
            high=z_scores.at[high, "feature"],
            high_z=format_number(z_scores.at[high, "z"], language, 2),
            low=z_scores.at[low, "feature"],
            low_z=format_number(z_scores.at[low, "z"], language, 2),
        ),
        columns=[t("feature"), "z"],
        rows=[[f, format_number(z, language, 2)] for f, z in z_scores.itertuples(index=False)],
    )

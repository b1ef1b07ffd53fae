"""Did it work? Each export of the month: target against control the month after, in words."""

from __future__ import annotations

import html

import panel as pn

from panel_app import data
from panel_app.i18n import localized
from panel_app.outcome_text import figures_table, incremental_sentence, verdict_sentence
from panel_app.pages.base import Page
from panel_app.pages.style import CARD_CSS
from panel_app.tables import table_pane

VERDICT_TONE = {"worked": "good", "harmed": "bad", "no_effect": "neutral"}
VERDICT_CSS = """
.verdict { margin: 8px 0; padding: 8px 12px; border-radius: 6px; font-weight: 600; }
.verdict.good { background: #dafbe1; color: #116329; }
.verdict.bad { background: #ffebe9; color: #a40e26; }
.verdict.neutral { background: #f6f8fa; color: #24292f; }
.verdict.pending { background: #fff8c5; color: #7d4e00; }
"""


class Outcomes(Page):
    def view(self) -> pn.viewable.Viewable:
        state = self.state
        if not state.month:
            return self.empty_warehouse()
        frame = data.outcomes(state.warehouse_uri, state.month)
        if frame.empty:
            return pn.pane.Alert(state.t("no_outcomes"), alert_type="info")
        sections: list[pn.viewable.Viewable] = [pn.pane.Markdown(state.t("outcomes_help"))]
        for row in frame.to_dict("records"):
            sections.extend(self.export_view(row))
        return pn.Column(*sections, sizing_mode="stretch_width")

    def export_view(self, row: dict) -> list[pn.viewable.Viewable]:
        state, language = self.state, self.state.language
        names = {"name": row["segment_name"], "name_fr": row["segment_name_fr"]}
        actions = {"action": row["action"], "action_fr": row["action_fr"]}
        name, action = localized(names, "name", language), localized(actions, "action", language)
        colon = " :" if language == "fr" else ":"
        incremental = incremental_sentence(row, language)
        verdict = html.escape(verdict_sentence(row, language))
        tone = VERDICT_TONE.get(str(row["verdict"]), "pending")
        source = (
            f"{state.t('export_id')} {row['export_id']} · "
            f"{state.t('measured_in')} {row['outcome_month']}"
        )
        export = html.escape(row["export_id"])
        parts = [
            f'<div class="card" data-testid="outcome" data-export="{export}">',
            f"<h3>{html.escape(name)}</h3>",
            f"<div>{html.escape(state.t('action'))}{colon} {html.escape(action)}</div>",
            f'<div class="label">{html.escape(source)}</div>',
            f'<div class="verdict {tone}" data-testid="verdict">{verdict}</div>',
        ]
        if incremental:
            parts.append(f'<div data-testid="incremental">{html.escape(incremental)}</div>')
        parts.append("</div>")
        table = figures_table(row, language)
        return [
            pn.pane.HTML(
                "".join(parts), stylesheets=[CARD_CSS, VERDICT_CSS], sizing_mode="stretch_width"
            ),
            table_pane(table, name),
        ]

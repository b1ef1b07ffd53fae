"""Model quality: how far to trust the month's segments and value predictions, in words.

The figures are the pipeline's (``kmeans_model/quality*`` and ``value_quality/*``, see
``amazing_assets/defs/segments/quality.py`` and ``defs/value/quality.py``); this page only puts
them into sentences a marketer reads, and says "not measurable yet" and why where the history
is too short, or that predictions are hidden below the stated minimums.
"""

from __future__ import annotations

import html
import math

import pandas as pd
import panel as pn

from amazing_assets.defs.segments.quality import STABLE_JACCARD
from panel_app import data
from panel_app.i18n import format_number, format_percent, label, localized
from panel_app.pages.base import Page
from panel_app.tables import table_pane

MODEL_NAMES: dict[str, dict[str, str]] = {
    "bg_nbd": {"fr": "BG/NBD", "en": "BG/NBD"},
    "modified_bg_nbd": {"fr": "BG/NBD modifié", "en": "modified BG/NBD"},
    "pareto_nbd": {"fr": "Pareto/NBD", "en": "Pareto/NBD"},
}


class ModelQuality(Page):
    def view(self) -> pn.viewable.Viewable:
        state = self.state
        if not state.month:
            return self.empty_warehouse()
        segments = data.segment_quality(state.warehouse_uri, state.month)
        row, deciles = data.value_quality(state.warehouse_uri, state.month)
        names = {
            int(r["segment"]): localized(r, "name", state.language)
            for r in data.profiles(state.warehouse_uri, state.month).to_dict("records")
        }
        return pn.Column(
            pn.pane.Markdown(state.t("quality_help")),
            pn.pane.Markdown(f"### {state.t('quality_segments')}"),
            *segment_panes(segments, names, state.language),
            pn.pane.Markdown(f"### {state.t('quality_value')}"),
            *value_panes(row, deciles, state.month, state.language),
            sizing_mode="stretch_width",
        )


def sentence(text: str, testid: str) -> pn.pane.HTML:
    """A paragraph the browser tests find by ``data-testid`` (text escaped)."""
    return pn.pane.HTML(
        f'<p data-testid="{testid}">{html.escape(text)}</p>', sizing_mode="stretch_width"
    )


def model_name(code: object, language: str) -> str:
    names = MODEL_NAMES.get(str(code))
    return names[language] if names else str(code)


def segment_panes(
    quality: dict[str, pd.DataFrame] | None, names: dict[int, str], language: str
) -> list[pn.viewable.Viewable]:
    if quality is None:
        return [pn.pane.Alert(label("quality_no_segments", language), alert_type="info")]
    summary = quality["summary"].iloc[0]
    k = int(summary["k"])
    panes: list[pn.viewable.Viewable] = [
        sentence(
            label("quality_separation", language).format(
                k=k,
                words=label(f"band_{summary['silhouette_band']}", language),
                silhouette=format_number(float(summary["silhouette"]), language, 2),
            ),
            "quality-separation",
        ),
        sentence(
            label("quality_stability", language).format(
                stable=int(summary["stable_segments"]),
                k=k,
                share=format_percent(float(summary["stable_share"]), language, 0),
                floor=format_percent(STABLE_JACCARD, language, 0),
                least=format_percent(float(summary["min_stability"]), language, 0),
            ),
            "quality-stability",
        ),
    ]
    segments = quality["segments"]
    if len(segments):
        table = pd.DataFrame(
            {
                label("segment", language): [
                    names.get(int(s), str(s)) for s in segments["segment"]
                ],
                label("share", language): [
                    format_percent(v, language, 1) for v in segments["share"]
                ],
                label("stability_column", language): [
                    format_percent(v, language, 0) for v in segments["stability"]
                ],
                label("stability_verdict", language): [
                    label(f"stability_{b}", language) for b in segments["stability_band"]
                ],
            }
        )
        panes.append(table_pane(table, label("quality_segments", language), name="stability"))
    tiers = quality["tiers"]
    if len(tiers):
        lines = [f"**{label('quality_why_k', language)}**"]
        for tier in tiers.to_dict("records"):
            agreement = tier.get("selection_stability")
            text = label(f"rule_{tier['rule']}", language).format(
                k=int(tier["k"]),
                customers=format_number(int(tier["customers"]), language),
                agreement=format_number(float(agreement), language, 2)
                if agreement is not None and math.isfinite(agreement)
                else "—",
            )
            colon = " :" if language == "fr" else ":"
            lines.append(f"- {label('tier_' + str(tier['tier']), language)}{colon} {text}")
        panes.append(pn.pane.Markdown("\n".join(lines), name="why-k"))
    return panes


def value_panes(
    row: dict | None, deciles: pd.DataFrame, month: str, language: str
) -> list[pn.viewable.Viewable]:
    """The back-test in words (or why there is none) and the minimums, always stated."""
    if row is None:
        return [pn.pane.Alert(label("quality_no_value", language), alert_type="info")]
    minimums = sentence(
        label("quality_minimums", language).format(
            buyers=format_number(int(row["min_buyers"]), language),
            repeat=format_number(int(row["min_repeat_buyers"]), language),
            holdout=int(row["holdout_months"]),
        ),
        "quality-minimums",
    )
    status = row["status"]
    if status == "not_modelled":
        return [hidden_alert(row, month, language), minimums]
    model = model_name(row["model"], language)
    if status == "not_measurable":
        when = (
            label("quality_measurable_from", language).format(month=row["measurable_from"])
            if row.get("measurable_from")
            else label("quality_measurable_later", language)
        )
        text = label("quality_not_measurable", language).format(
            start=row["history_start"],
            months=int(row["history_months"]),
            days=format_number(int(row["history_days"]), language),
            buyers=format_number(int(row["min_buyers"]), language),
            repeat=format_number(int(row["min_repeat_buyers"]), language),
            holdout=int(row["holdout_months"]),
            when=when,
            model=model,
        )
        return [alert(text, "quality-not-measurable"), minimums]
    if status == "not_tested":
        text = label("quality_not_tested", language).format(reason=row["reason"], model=model)
        return [alert(text, "quality-not-measurable"), minimums]
    holdout = int(row["holdout_months"])
    start = str(pd.Period(str(row["calibration_end"]), "M") + 1)
    panes: list[pn.viewable.Viewable] = [
        sentence(
            label("quality_measured_top", language).format(
                origin=row["calibration_end"],
                customers=format_number(int(row["backtest_customers"]), language),
                share=format_percent(float(row["top_revenue_share"]), language, 0),
                holdout=holdout,
                start=start,
                end=row["holdout_end"],
            ),
            "quality-top",
        ),
        sentence(
            label("quality_measured_ratio", language).format(
                predicted=format_number(float(row["predicted_purchases"]), language),
                actual=format_number(float(row["actual_purchases"]), language),
                ratio=format_number(float(row["purchase_ratio"]), language, 2),
                holdout=holdout,
                purchases=format_percent(float(row["top_purchase_share"]), language, 0),
            ),
            "quality-ratio",
        ),
        sentence(label("quality_model", language).format(model=model), "quality-model"),
    ]
    if len(deciles):
        panes.append(pn.pane.Markdown(f"**{label('quality_deciles', language)}**"))
        title = label("quality_deciles", language)
        panes.append(table_pane(decile_table(deciles, language), title, name="deciles"))
    panes.append(minimums)
    return panes


def decile_table(deciles: pd.DataFrame, language: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            label("decile", language): deciles["decile"].astype(int),
            label("size", language): [format_number(v, language) for v in deciles["customers"]],
            label("decile_predicted", language): [
                format_number(v, language, 2) for v in deciles["predicted"]
            ],
            label("decile_actual", language): [
                format_number(v, language, 2) for v in deciles["actual"]
            ],
            label("decile_ratio", language): [
                format_number(v, language, 2) if isinstance(v, float) and math.isfinite(v) else "—"
                for v in deciles["ratio"]
            ],
        }
    )


NOTICE_CSS = """
.notice { padding: 12px 16px; border-radius: 6px; border: 1px solid #d4a72c;
  background: #fff8c5; color: #3b2300; font-size: 14px; line-height: 1.5; margin: 0; }
"""
"""A warning box whose text contrasts with its background (Panel's warning Alert does not
reach axe-core's 4.5:1 contrast)."""


def alert(text: str, testid: str) -> pn.pane.HTML:
    """A warning in a box: "not measurable yet", "predictions hidden"."""
    return pn.pane.HTML(
        f'<p class="notice" role="note" data-testid="{testid}">{html.escape(text)}</p>',
        stylesheets=[NOTICE_CSS],
        sizing_mode="stretch_width",
    )


def hidden_alert(row: dict, month: str, language: str) -> pn.pane.HTML:
    """Predictions hidden below the minimums, with the month's own counts."""
    text = label("quality_hidden", language).format(
        month=month,
        buyers=format_number(int(row["buyers"]), language),
        repeat=format_number(int(row["repeat_buyers"]), language),
        min_buyers=format_number(int(row["min_buyers"]), language),
        min_repeat=format_number(int(row["min_repeat_buyers"]), language),
    )
    return alert(text, "quality-hidden")


def hidden_predictions_notice(
    warehouse_uri: str, month: str, language: str
) -> pn.viewable.Viewable:
    """For the value page of a month without predictions: why (below the minimums, with the
    counts), or that customer_value was not materialised."""
    row, _ = data.value_quality(warehouse_uri, month)
    if row is not None and row["status"] == "not_modelled":
        return hidden_alert(row, month, language)
    return pn.pane.Alert(label("no_value", language), alert_type="info")

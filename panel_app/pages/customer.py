"""One customer: look up their segment history by id, or predict a segment from behaviour.

The id typed in is pseudonymised with the pipeline's key at once and only the token is used; the
id itself is never stored, cached or logged (GDPR: the warehouse and the logs hold no direct
identifier, and neither does this app).
"""

from __future__ import annotations

import html

import pandas as pd
import panel as pn

from amazing_assets.defs.segments import explain
from amazing_assets.defs.segments.prediction import behaviour_features
from amazing_assets.defs.value.value_models import NO_PURCHASE_HORIZONS
from amazing_assets.lib.pseudonymize import PseudonymizationKeyError
from panel_app import data
from panel_app.figures import churn_shown
from panel_app.form_input import BOUND_FEATURES, FORM_FIELDS, default_text, validate
from panel_app.i18n import (
    MEDIAN_LABELS,
    format_money,
    format_number,
    format_percent,
    localized,
)
from panel_app.pages.base import Page
from panel_app.pages.style import CARD_CSS


class CustomerPage(Page):
    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.customer_id = pn.widgets.TextInput(width=260)
        self.search = pn.widgets.Button(button_type="primary")
        self.lookup_result = pn.Column(sizing_mode="stretch_width")
        # The token of the customer shown (pseudonymous, like the warehouse; never the raw id),
        # so a month or language change redraws their result instead of leaving a stale one.
        self._token: str | None = None
        self.search.on_click(self._lookup)
        self.customer_id.param.watch(self._lookup, "enter_pressed")
        # Text, not FloatInput: the browser's number input turns letters into NaN and silently
        # reverts values below ``start``; text is parsed and checked here, with clear messages.
        self.inputs = {
            field.key: pn.widgets.TextInput(
                value=default_text(field, self.state.language), width=200
            )
            for field in FORM_FIELDS
        }
        self.state.param.watch(self._relabel, ["language"])
        self.state.param.watch(self._show_lookup, ["month", "language"])
        self._relabel()

    def _relabel(self, *_events) -> None:
        state = self.state
        self.customer_id.name = state.t("customer_id")
        self.search.name = state.t("search")
        for field in FORM_FIELDS:
            self.inputs[field.key].name = state.t(field.label_key)

    def _lookup(self, *_events) -> None:
        raw_id = (self.customer_id.value_input or self.customer_id.value or "").strip()
        state = self.state
        if not raw_id:
            self._token = None
            self.lookup_result.objects = []
            return
        try:
            token = data.pseudonymizer(state.key_file).token(raw_id)
        except PseudonymizationKeyError:
            self.lookup_result.objects = [
                pn.pane.Alert(state.t("lookup_unavailable"), alert_type="danger")
            ]
            return
        finally:
            raw_id = ""  # the raw id goes no further than the token
        self._token = token
        self._show_lookup()

    def _show_lookup(self, *_events) -> None:
        """The looked-up customer's history and value card, for the current month and language."""
        state, token = self.state, self._token
        if token is None:
            return
        with self.lookup_result.param.update(loading=True):
            history = data.segment_history(state.warehouse_uri, token)
        if history.empty:
            self.lookup_result.objects = [pn.pane.Alert(state.t("not_found"), alert_type="info")]
            return
        value = data.value_of(state.warehouse_uri, token, state.month) if state.month else None
        features = (
            data.customer_features(state.warehouse_uri, token, state.month) if state.month else None
        )
        table = pd.DataFrame(
            {
                state.t("month"): history["month"],
                state.t("segment"): [
                    localized(r, "name", state.language) for r in history.to_dict("records")
                ],
            }
        )
        self.lookup_result.objects = [
            pn.pane.Markdown(f"### {state.t('history')}"),
            pn.pane.DataFrame(table, index=False, name="history"),
            pn.pane.HTML(self.value_card(value), stylesheets=[CARD_CSS], width=440),
            pn.pane.HTML(self.explanation_card(features), stylesheets=[CARD_CSS], width=440),
        ]

    def _shown(self, feature: str, value: float) -> str:
        language = self.state.language
        if feature in ("monetary", "avg_order_value"):
            return format_money(value, language)
        return format_number(value, language, 0)

    def explanation_card(self, features: dict[str, float] | None) -> str:
        """Why the customer is in their segment this month, and the smallest change that would
        put them in a more valuable one (``amazing_assets.defs.segments.explain``)."""
        state, language = self.state, self.state.language
        title = f"{html.escape(state.t('why_segment'))} ({html.escape(state.month or '')})"
        if features is None or not state.month:
            body = f'<div class="note">{html.escape(state.t("no_features_customer"))}</div>'
            return (
                f'<div class="card" data-testid="customer-why">'
                f'<div class="label">{title}</div>{body}</div>'
            )
        predictor = data.predictor(state.warehouse_uri, state.month, state.key_file)
        profiles = data.profiles(state.warehouse_uri, state.month)
        names = {
            int(r["segment"]): localized(r, "name", language) for r in profiles.to_dict("records")
        }
        segment = predictor.predict(explain.model_features(explain.form_values(features))).segment
        title = (
            f"{html.escape(state.t('why_segment'))}{' : ' if language == 'fr' else ': '}"
            f"{html.escape(names[segment])} "
            f"({html.escape(state.month)})"
        )
        reasons = explain.why_this_segment(
            features, predictor, profiles, data.feature_medians(state.warehouse_uri, state.month)
        )
        lines = [
            state.t("why_line").format(
                feature=MEDIAN_LABELS[r.feature][language].replace(" (€)", ""),
                value=self._shown(r.feature, r.value),
                segment=self._shown(r.feature, r.segment_median),
                everyone=self._shown(r.feature, r.population_median),
            )
            for r in reasons
        ]
        why = (
            "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"
            if lines
            else f'<div class="note">{html.escape(state.t("why_none"))}</div>'
        )
        worth = explain.segment_values(profiles)
        moved = explain.move_up(features, predictor, worth, explain.reference_basket(profiles))
        if moved is None:
            top = worth[segment] >= max(worth.values())
            move = html.escape(state.t("move_top" if top else "move_none"))
        else:
            change, target = moved.change, names[moved.target]
            if change.lever == "orders":
                text = state.t("move_order" if change.delta == 1 else "move_orders").format(
                    count=format_number(change.delta, language, 0),
                    basket=format_money(
                        explain.basket(change.before, explain.reference_basket(profiles)),
                        language,
                    ),
                    target=target,
                )
            elif change.lever == "recency_days":
                text = state.t("move_recency_days").format(
                    after=format_number(change.after["recency_days"], language, 0),
                    before=format_number(change.before["recency_days"], language, 0),
                    target=target,
                )
            else:
                text = state.t("move_spend").format(
                    amount=format_money(change.delta, language), target=target
                )
            move = html.escape(text)
            if "expected_revenue_per_customer" in profiles and all(
                profiles["expected_revenue_per_customer"].notna()
            ):
                value_line = state.t("move_value").format(
                    before=format_money(worth[moved.segment], language),
                    after=format_money(worth[moved.target], language),
                )
            else:
                value_line = state.t("move_value_observed")
            move += f'<div class="note">{html.escape(value_line)}</div>'
        return (
            f'<div class="card" data-testid="customer-why"><div class="label">{title}</div>'
            f'<div data-testid="customer-why-reasons">{why}</div>'
            f'<div class="label">{html.escape(state.t("move_up"))}</div>'
            f'<div data-testid="customer-move-up">{move}</div></div>'
        )

    def value_card(self, value: dict[str, float] | None) -> str:
        """The customer's predicted value and churn risk for the chosen month, by the segment."""
        state, language = self.state, self.state.language
        title = f"{html.escape(state.t('customer_value_card'))} ({html.escape(state.month or '')})"
        if value is None:
            body = f'<div class="note">{html.escape(state.t("no_value_customer"))}</div>'
        else:
            figures = {
                "expected_revenue_90d": format_money(value["expected_revenue_90d"], language),
                "expected_purchases_90d": format_number(
                    value["expected_purchases_90d"], language, 2
                ),
                "churn_risk": churn_shown(
                    value["churn_risk"], language, state.previous_month is not None
                ),
                "p_alive": format_percent(value["p_alive"], language, 0),
                "no_purchase_horizons": " / ".join(
                    format_percent(value[f"p_no_purchase_{days}d"], language, 0)
                    for days in NO_PURCHASE_HORIZONS
                ),
            }
            body = "".join(
                f'<div data-testid="customer-{key}"><span class="label">'
                f"{html.escape(state.t(key))}</span> : <b>{shown}</b></div>"
                for key, shown in figures.items()
            )
        return (
            f'<div class="card" data-testid="customer-value">'
            f'<div class="label">{title}</div>{body}</div>'
        )

    def prediction(self, *texts: str) -> pn.viewable.Viewable:
        state, language = self.state, self.state.language
        if not state.month:
            return self.empty_warehouse()
        highest = data.feature_maxima(state.warehouse_uri, state.month, tuple(BOUND_FEATURES))
        labels = {field.key: state.t(field.label_key) for field in FORM_FIELDS}
        form, errors = validate(dict(zip(labels, texts, strict=True)), highest, labels, language)
        if errors:
            items = "".join(f"<li>{html.escape(e)}</li>" for e in errors)
            return pn.pane.Alert(
                f"<b>{html.escape(state.t('invalid_input'))}</b><ul>{items}</ul>",
                alert_type="warning",
                name="invalid-input",
            )
        features = behaviour_features(
            recency_days=form["recency_days"],
            orders=int(form["orders"]),
            spend=form["spend"],
            views=int(form["views"]),
            carts=int(form["carts"]),
            purchases=int(form["purchases"] or form["orders"]),
        )
        result = data.predictor(state.warehouse_uri, state.month, state.key_file).predict(features)
        row = (
            data.profiles(state.warehouse_uri, state.month)
            .set_index("segment")
            .loc[result.segment]
            .to_dict()
        )
        name = localized(row, "name", language)
        actions = "".join(
            f"<li><b>{html.escape(state.t(f))}</b> : "
            f"{html.escape(localized(row, f, language))}</li>"
            for f in ("channel", "offer", "timing", "kpi")
        )
        return pn.pane.HTML(
            f'<div class="card" data-testid="prediction"><div class="label">'
            f"{html.escape(state.t('predicted'))} ({html.escape(state.month)})</div>"
            f'<div class="value" data-testid="predicted-name">{html.escape(name)}</div>'
            f'<div class="note">{html.escape(localized(row, "description", language))}</div>'
            f"<ul>{actions}</ul></div>",
            stylesheets=[CARD_CSS],
            sizing_mode="stretch_width",
        )

    def view(self) -> pn.viewable.Viewable:
        state = self.state
        return pn.Row(
            pn.Column(
                pn.pane.Markdown(f"### {state.t('lookup')}\n{state.t('lookup_help')}"),
                pn.Row(self.customer_id, self.search),
                self.lookup_result,
                width=480,
            ),
            pn.Column(
                pn.pane.Markdown(f"### {state.t('predict')}\n{state.t('predict_help')}"),
                pn.GridBox(*self.inputs.values(), ncols=2),
                pn.panel(
                    pn.bind(self.prediction, *(i.param.value for i in self.inputs.values())),
                    loading_indicator=True,
                ),
                sizing_mode="stretch_width",
            ),
            sizing_mode="stretch_width",
        )

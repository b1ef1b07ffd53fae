"""Migration: customers moving between segments since the previous month (Sankey + heat map)."""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import panel as pn

from amazing_assets.defs.segments.identity_migration import moved_share
from panel_app import data
from panel_app.i18n import format_number, format_percent
from panel_app.pages.base import Page
from panel_app.tables import table_pane


def identity_summary(flows: pd.DataFrame, t, segment_name, language: str) -> list[str]:
    """How many customers changed segment identity, then one line per renamed segment (a
    definition change, not a move). Months stored before issue 25 have no ``flow``: none."""
    if "flow" not in flows:
        return []
    present = flows[flows["flow"].isin(["stayed", "renamed", "moved"])]
    moved = int(present.loc[present["moved"], "customers"].sum())
    lines = [
        t("migration_moved").format(
            moved=format_number(moved, language),
            present=format_number(int(present["customers"].sum()), language),
            share=format_percent(moved_share(flows), language),
        )
    ]
    for row in flows[flows["flow"] == "renamed"].itertuples():
        lines.append(
            t("migration_renamed").format(
                before=segment_name(row.from_name),
                after=segment_name(row.to_name),
                customers=format_number(int(row.customers), language),
            )
        )
    return lines


class Migration(Page):
    def view(self) -> pn.viewable.Viewable:
        state = self.state
        if not state.month:
            return self.empty_warehouse()
        before = state.previous_month
        flows = data.migration(state.warehouse_uri, state.month)
        if before is None or flows.empty:
            return pn.pane.Alert(state.t("no_migration"), alert_type="info")
        names = {
            name: state.segment_name(name)
            for name in set(flows["from_name"]) | set(flows["to_name"])
        }
        labelled = data.migration_labels(
            flows, names, before, state.month, state.t("new"), state.t("gone")
        )
        sankey = hv.Sankey(labelled, kdims=["source", "target"], vdims=["customers"]).opts(
            label_position="outer",
            show_values=False,
            edge_color="source",
            node_color="index",
            cmap="Category20",
            width=1000,
            height=560,
            title=f"{before} → {state.month}",
            toolbar=None,  # no toolbar (issue 27); the table below holds the same flows
        )
        table = labelled.pivot_table(
            index="source", columns="target", values="customers", aggfunc="sum", fill_value=0
        ).rename_axis(index=state.t("from_segment"), columns=state.t("to_segment"))
        summary = identity_summary(flows, state.t, state.segment_name, state.language)
        return pn.Column(
            pn.pane.Markdown(state.t("migration_help")),
            pn.pane.Markdown("\n\n".join(summary)),
            pn.pane.HoloViews(sankey, sizing_mode="stretch_width"),
            table_pane(table, f"{before} → {state.month}", index=True),
            sizing_mode="stretch_width",
        )

"""Migration: customers moving between segments since the previous month (Sankey + heat map)."""

from __future__ import annotations

import holoviews as hv
import panel as pn

from panel_app import data
from panel_app.pages.base import Page


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
        )
        table = labelled.pivot_table(
            index="source", columns="target", values="customers", aggfunc="sum", fill_value=0
        ).rename_axis(index=state.t("from_segment"), columns=state.t("to_segment"))
        return pn.Column(
            pn.pane.Markdown(state.t("migration_help")),
            pn.pane.HoloViews(sankey, sizing_mode="stretch_width"),
            pn.pane.DataFrame(table, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

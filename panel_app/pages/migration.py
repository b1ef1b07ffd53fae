"""Migration: customers moving between segments since the previous month (Sankey + heat map)."""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import panel as pn

from amazing_assets.defs.segments.identity_migration import NO_SEGMENT, moved_share
from panel_app import data
from panel_app.chart_data import ChartData, Swatch, with_alternative
from panel_app.colours import colour_of
from panel_app.i18n import format_number, format_percent
from panel_app.pages.base import Page


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
        colours = data.segment_colours(state.warehouse_uri)
        node_colours = sankey_colours(flows, labelled, colours)
        sankey = hv.Sankey(labelled, kdims=["source", "target"], vdims=["customers"]).opts(
            label_position="outer",
            show_values=False,
            edge_color="source",
            node_color="index",
            cmap=node_colours,  # each segment in its identity's colour, (new)/(gone) in grey
            width=1000,
            height=560,
            title=f"{before} → {state.month}",
            toolbar=None,  # no toolbar (issue 27); the table below holds the same flows
        )
        summary = identity_summary(flows, state.t, state.segment_name, state.language)
        return pn.Column(
            pn.pane.Markdown(state.t("migration_help")),
            pn.pane.Markdown("\n\n".join(summary)),
            # The flows are read as much as the Sankey is looked at: the table is open.
            with_alternative(
                sankey,
                flows_data(
                    labelled, node_colours, flows, before, state.month, state.t, state.language
                ),
                state.language,
                expanded=True,
            ),
            sizing_mode="stretch_width",
        )


def sankey_colours(
    flows: pd.DataFrame, labelled: pd.DataFrame, colours: dict[int, str]
) -> dict[str, str]:
    """Sankey node label → its segment identity's colour; (new), (gone) and flows stored before
    segments had an identity are grey."""
    nodes: dict[str, str] = {}
    for side, column in (("source", "from_segment_id"), ("target", "to_segment_id")):
        ids = flows[column] if column in flows else pd.Series([None] * len(flows))
        for node, identity in zip(labelled[side], ids, strict=True):
            known = identity is not None and pd.notna(identity) and int(identity) != NO_SEGMENT
            nodes[node] = colour_of(colours, int(identity) if known else None)
    return nodes


def flows_data(
    labelled: pd.DataFrame,
    node_colours: dict[str, str],
    flows: pd.DataFrame,
    before: str,
    after: str,
    t,
    language: str,
) -> ChartData:
    """One row per flow (from, to, customers), biggest first, the from-segment's swatch."""
    ordered = labelled.assign(from_id=flows.get("from_segment_id", NO_SEGMENT)).sort_values(
        "customers", ascending=False, kind="stable"
    )
    return ChartData(
        key="migration-sankey",
        title=f"{before} → {after}",
        summary=t("sankey_summary").format(
            customers=format_number(int(labelled["customers"].sum()), language),
            before=before,
            after=after,
            flows=format_number(len(labelled), language),
        ),
        columns=[t("from_segment"), t("to_segment"), t("size")],
        rows=[
            [row.source, row.target, format_number(int(row.customers), language)]
            for row in ordered.itertuples()
        ],
        swatches=[
            Swatch(node_colours[row.source], int(row.from_id)) for row in ordered.itertuples()
        ],
    )

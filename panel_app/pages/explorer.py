"""Explorer: every customer on the first two PCA axes, coloured by segment.

Datashader shades the points on the server, so the browser receives an image whatever the
number of customers (1 M customers: one 12 MB frame in memory, a few hundred KB on the wire).
"""

from __future__ import annotations

import functools
import html
import logging

import hvplot.pandas  # noqa: F401  (registers .hvplot)
import pandas as pd
import panel as pn

from panel_app import data
from panel_app.axes import tick_formatter
from panel_app.chart_data import ChartData, Swatch, with_alternative
from panel_app.i18n import format_number
from panel_app.pages.base import Page

logger = logging.getLogger(__name__)

LEGEND_CSS = """
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px;
          margin-right: 4px; vertical-align: middle; }
"""


@functools.cache
def warm_up() -> None:
    """Compile datashader's kernels (numba) once per server process, at start-up.

    The first shading in a process costs ~4.5 s of JIT compilation; ``panel serve --warm``
    runs the app once before opening the port, so this moves that cost off the first visitor
    of the Explorer (1 M customers then shade in ~0.4 s).
    """
    import datashader as ds
    import datashader.transfer_functions as tf
    import numpy as np

    tiny = pd.DataFrame(
        {
            "pc_1": np.array([0.0, 1.0], dtype=np.float32),  # the dtypes data.embedding returns
            "pc_2": np.array([0.0, 1.0], dtype=np.float32),
            "segment": pd.Categorical(["a", "b"]),
        }
    )
    try:
        counts = ds.Canvas(plot_width=8, plot_height=8).points(
            tiny, "pc_1", "pc_2", agg=ds.count_cat("segment")
        )
        tf.dynspread(tf.shade(counts, color_key={"a": "#000000", "b": "#ffffff"}))
    except Exception:  # a warm-up must never keep the app from serving
        logger.warning("datashader warm-up failed: the first Explorer visit will be slower")


class Explorer(Page):
    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.shown = pn.widgets.MultiChoice(width=420)
        self.state.param.watch(self._refresh_choices, ["month", "language"])
        self._refresh_choices()

    def _refresh_choices(self, *_events) -> None:
        self.shown.name = self.state.t("filter_segments")
        self.shown.options = self.segment_options()
        self.shown.value = list(self.shown.options.values())

    def view(self) -> pn.viewable.Viewable:
        if not self.state.month:
            return self.empty_warehouse()
        return pn.Column(
            pn.pane.Markdown(self.state.t("explorer_help")),
            self.shown,
            pn.panel(pn.bind(self.scatter, self.shown), loading_indicator=True),
            sizing_mode="stretch_width",
        )

    def scatter(self, segments: list[int]) -> pn.viewable.Viewable:
        state = self.state
        if not segments:
            return pn.pane.Markdown("")
        points = data.embedding(state.warehouse_uri, state.month)
        names = {segment: name for name, segment in self.segment_options().items()}
        chosen = points[points["segment"].isin(segments)]
        order = [names[s] for s in sorted(names) if s in set(segments)]
        frame = pd.DataFrame(
            {
                "pc_1": chosen["pc_1"],
                "pc_2": chosen["pc_2"],
                "segment": pd.Categorical(chosen["segment"].map(names), categories=order),
            }
        )
        colours = self.segment_colours()  # by segment identity, as on every page
        shown = [s for s in sorted(names) if s in set(segments)]
        if not shown:  # a choice left over from another month
            return pn.pane.Markdown("")
        # Categorical shading of a single category comes out fully transparent (datashader's
        # colour baseline is NaN): one segment is shaded by count, in its own colour.
        colouring = (
            {"by": "segment", "cmap": {names[s]: colours[s] for s in shown}}
            if len(shown) > 1
            else {"cmap": [colours[shown[0]], colours[shown[0]]]}
        )
        plot = frame.hvplot.points(
            "pc_1",
            "pc_2",
            datashade=True,  # categorical shading: each pixel blends its segments' colours
            dynspread=True,
            responsive=True,
            height=560,
            xlabel="PC 1",
            ylabel="PC 2",
            xformatter=tick_formatter("decimal", state.language),
            yformatter=tick_formatter("decimal", state.language),
            **colouring,
        ).opts(default_tools=["box_zoom", "reset"])  # zoom into the cloud, nothing more (issue 27)
        ids = self.segment_identities()
        legend = "".join(
            f'<span class="swatch" style="background:{colours[s]}" data-colour="{colours[s]}" '
            f'data-segment-id="{ids[s]}"></span>{html.escape(names[s])}&nbsp;&nbsp;'
            for s in shown
        )
        return pn.Column(
            pn.pane.HTML(legend, stylesheets=[LEGEND_CSS]),
            with_alternative(
                plot, self.scatter_data(chosen, shown, names, colours), state.language
            ),
            sizing_mode="stretch_width",
        )

    def scatter_data(
        self, points: pd.DataFrame, shown: list[int], names: dict[int, str], colours: dict[int, str]
    ) -> ChartData:
        """Per segment shown: its customers and the median of each axis (where its cloud sits)."""
        state, language = self.state, self.state.language
        ids = self.segment_identities()
        groups = points.groupby("segment")
        sizes, medians = groups.size(), groups[["pc_1", "pc_2"]].median()
        rows = [
            [
                names[s],
                format_number(int(sizes.get(s, 0)), language),
                *(
                    format_number(float(medians.at[s, axis]), language, 2)
                    if s in medians.index
                    else "—"
                    for axis in ("pc_1", "pc_2")
                ),
            ]
            for s in shown
        ]
        return ChartData(
            key="explorer-scatter",
            title=state.t("explorer"),
            summary=state.t("scatter_summary").format(
                customers=format_number(len(points), language),
                segments=len(shown),
                month=state.month,
            ),
            columns=[
                state.t("segment"),
                state.t("size"),
                state.t("median_pc").format(axis=1),
                state.t("median_pc").format(axis=2),
            ],
            rows=rows,
            swatches=[Swatch(colours[s], ids[s]) for s in shown],
        )

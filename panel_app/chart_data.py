"""Every chart's text alternative: a sentence that sums it up and a table of its numbers.

A chart drawn on a canvas says nothing to a screen reader, and its exact figures are hard to
read even on screen. Each chart of the app is therefore followed by a ``<figure>`` whose caption
sums the chart up and whose folded ``<details>`` "Données du graphique / Chart data" holds the
same numbers as a table, formatted in the UI language by the caller. Rows about a segment carry
their identity's colour (class ``chart-swatch``: the Explorer's legend keeps ``swatch``). One
helper for every page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import panel as pn
from panel.io.resources import CDN_DIST

from panel_app.i18n import label
from panel_app.tables import SCROLL_CSS

ALTERNATIVE_CSS = """
figure.chart-alt { margin: 4px 0 16px 0; }
figure.chart-alt figcaption { color: #424a53; font-size: 13px; margin-bottom: 4px; }
figure.chart-alt summary { cursor: pointer; color: #0969da; font-size: 13px; }
figure.chart-alt .chart-swatch { display: inline-block; width: 12px; height: 12px;
  border-radius: 2px; margin-right: 6px; vertical-align: middle;
  border: 1px solid rgba(0, 0, 0, 0.2); }
"""


@dataclass(frozen=True)
class Swatch:
    """A segment identity's colour, shown before the row's first cell."""

    colour: str
    segment_id: int


@dataclass(frozen=True)
class ChartData:
    """What a chart shows, in words and numbers (cells already formatted in the UI language).

    ``key`` names the chart for tests and links (``data-chart``); ``swatches`` (one per row, or
    empty) colour the first cell of segment rows.
    """

    key: str
    title: str
    summary: str
    columns: list[str]
    rows: list[list[str]]
    swatches: list[Swatch | None] = field(default_factory=list)


def _cell(text: str, swatch: Swatch | None) -> str:
    if swatch is None:
        return f"<td>{html.escape(text)}</td>"
    colour = html.escape(swatch.colour, quote=True)
    return (
        f'<td><span class="chart-swatch" aria-hidden="true" style="background:{colour}" '
        f'data-colour="{colour}" data-segment-id="{swatch.segment_id}"></span>'
        f"{html.escape(text)}</td>"
    )


def alternative_html(chart: ChartData, language: str, expanded: bool = False) -> str:
    """The figure: caption (the summary) and the table in a ``<details>``, open when
    ``expanded`` (a chart whose table is read as much as the chart, e.g. migrations)."""
    swatches = chart.swatches or [None] * len(chart.rows)
    head = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in chart.columns)
    body = "".join(
        "<tr>"
        + _cell(row[0], swatch)
        + "".join(f"<td>{html.escape(c)}</td>" for c in row[1:])
        + "</tr>"
        for row, swatch in zip(chart.rows, swatches, strict=True)
    )
    title = html.escape(chart.title, quote=True)
    data_title = html.escape(label("chart_data", language).format(title=chart.title))
    return (
        f'<figure class="chart-alt" data-chart="{html.escape(chart.key, quote=True)}" '
        f'aria-label="{title}">'
        f'<figcaption class="chart-summary">{html.escape(chart.summary)}</figcaption>'
        f"<details{' open' if expanded else ''}><summary>{data_title}</summary>"
        f'<div class="table-scroll" role="region" tabindex="0" aria-label="{title}">'
        f'<table class="panel-df"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
        "</div></details></figure>"
    )


def alternative_pane(chart: ChartData, language: str, expanded: bool = False) -> pn.pane.HTML:
    return pn.pane.HTML(
        alternative_html(chart, language, expanded),
        stylesheets=[f"{CDN_DIST}css/dataframe.css", SCROLL_CSS, ALTERNATIVE_CSS],
        sizing_mode="stretch_width",
    )


def with_alternative(
    plot: object, chart: ChartData, language: str, expanded: bool = False, **params
) -> pn.Column:
    """The chart (a HoloViews object or a pane) and, right under it, its text alternative;
    ``params`` go to the column holding both (e.g. its ``styles`` in a flex row)."""
    pane = plot if isinstance(plot, pn.viewable.Viewable) else pn.pane.HoloViews(plot)
    pane.sizing_mode = "stretch_width"
    params.setdefault("sizing_mode", "stretch_width")
    return pn.Column(pane, alternative_pane(chart, language, expanded), **params)

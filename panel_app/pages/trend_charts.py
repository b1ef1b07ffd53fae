"""The overview's trend charts, each with its text alternative (issue 27).

KPI lines start at zero (a trend is read against zero, not against the lowest month), money
axes carry €, share axes %, and the chosen month is a red point on every line and named under
each chart. Segment bars are stacked per segment *identity* (``segment_id``) in the identity's
colour, labelled with the identity's latest name, so a segment renamed between months stays one
colour and one legend entry.
"""

from __future__ import annotations

from collections.abc import Callable

import holoviews as hv
import hvplot.pandas  # noqa: F401  (registers .hvplot)
import pandas as pd

from panel_app.axes import Kind, tick_formatter
from panel_app.chart_data import ChartData, Swatch
from panel_app.colours import colour_of
from panel_app.data import identities
from panel_app.i18n import format_money, format_number, format_percent, label, localized

LINE_COLOUR = "#0969da"
CHOSEN_COLOUR = "#cf222e"


def formatter_of(kind: Kind, language: str) -> Callable[[float], str]:
    """The Python format of an axis kind (the alternative tables' cells)."""
    if kind == "money":
        return lambda v: format_money(v, language)
    if kind == "percent":
        return lambda v: format_percent(v, language)
    return lambda v: format_number(v, language)


def kpi_trend(
    kpis: pd.DataFrame, name: str, kind: Kind, month: str, language: str
) -> tuple[hv.Overlay, ChartData]:
    """One KPI per month as a line from zero, the chosen month marked, and its table."""
    title = label(name, language)
    axis = tick_formatter(kind, language)
    shown = formatter_of(kind, language)
    line = kpis.hvplot.line(
        x="month",
        y=name,
        title=title,
        xlabel=label("chosen_month", language).format(month=month),
        ylabel="",
        height=220,
        responsive=True,
        color=LINE_COLOUR,
        line_width=2.5,
        ylim=(0, None),  # a zero baseline: a 2 % dip must not look like a collapse
        yformatter=axis,
    )
    sized = {"height": 220, "responsive": True}  # every layer, or the overlay stays fixed
    points = kpis.hvplot.scatter(x="month", y=name, color=LINE_COLOUR, size=40, **sized)
    chosen = kpis[kpis["month"] == month].hvplot.scatter(
        x="month", y=name, color=CHOSEN_COLOUR, size=160, **sized
    )
    plot = (line * points * chosen).opts(toolbar=None)  # hover stays, no zoom tools (issue 27)
    values = kpis[name].astype(float)
    low, high = values.idxmin(), values.idxmax()
    current = kpis.loc[kpis["month"] == month, name]
    summary = label("trend_summary", language).format(
        title=title,
        count=len(kpis),
        first=kpis["month"].iloc[0],
        last=kpis["month"].iloc[-1],
        low=shown(values[low]),
        low_month=kpis["month"][low],
        high=shown(values[high]),
        high_month=kpis["month"][high],
        month=month,
        value=shown(float(current.iloc[0])) if len(current) else "—",
    )
    chart = ChartData(
        key=f"trend-{name}",
        title=title,
        summary=summary,
        columns=[label("month", language), title],
        rows=[[m, shown(float(v))] for m, v in zip(kpis["month"], values, strict=True)],
    )
    return plot, chart


def identity_labels(history: pd.DataFrame, language: str) -> dict[int, str]:
    """Segment id → its latest localised name (" (n)" added when two identities share one)."""
    latest: dict[int, str] = {}
    for row in history.sort_values("month").to_dict("records"):
        latest[int(row["identity"])] = localized(row, "name", language)
    seen: dict[str, int] = {}
    labels = {}
    for identity, name in sorted(latest.items()):
        seen[name] = seen.get(name, 0) + 1
        labels[identity] = name if seen[name] == 1 else f"{name} ({seen[name]})"
    return labels


def segment_stack(
    history: pd.DataFrame,
    column: str,
    kind: Kind,
    title_key: str,
    month: str,
    language: str,
    colours: dict[int, str],
) -> tuple[hv.Element, ChartData]:
    """``column`` per month stacked by segment identity, in the identity's colour."""
    title = label(title_key, language)
    frame = history.assign(identity=identities(history))
    labels = identity_labels(frame, language)
    frame = frame.assign(segment_name=frame["identity"].map(labels))
    order = sorted(labels, key=lambda i: labels[i])
    cmap = {labels[i]: colour_of(colours, i) for i in order}
    plot = frame.hvplot.bar(
        x="month",
        y=column,
        by="segment_name",
        stacked=True,
        title=title,
        xlabel=label("chosen_month", language).format(month=month),
        ylabel="",
        legend="bottom",  # under the bars: on a phone a side legend leaves them no room
        legend_cols=3,
        height=320,
        responsive=True,
        cmap=cmap,
        yformatter=tick_formatter(kind, language),
    ).opts(toolbar=None)
    months = sorted(frame["month"].unique())
    table = frame.pivot_table(index="identity", columns="month", values=column, aggfunc="sum")
    shown = formatter_of(kind, language)
    rows = [
        [labels[i]]
        + [shown(float(table.at[i, m])) if pd.notna(table.at[i, m]) else "—" for m in months]
        for i in order
    ]
    now = frame[frame["month"] == month].sort_values(column, ascending=False)
    summary = label("stacked_summary", language).format(
        title=title,
        count=len(months),
        segments=len(labels),
        month=month,
        name=labels[int(now["identity"].iloc[0])] if len(now) else "—",
        value=shown(float(now[column].iloc[0])) if len(now) else "—",
    )
    chart = ChartData(
        key=f"trend-{column}",
        title=title,
        summary=summary,
        columns=[label("segment", language), *months],
        rows=rows,
        swatches=[Swatch(colour_of(colours, i), i) for i in order],
    )
    return plot, chart

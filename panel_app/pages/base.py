"""What every page shares: the app state, re-rendering on month or language, segment choices."""

from __future__ import annotations

import html

import panel as pn
import param

from panel_app import data
from panel_app.colours import colour_of
from panel_app.i18n import localized
from panel_app.state import AppState


class Page(pn.viewable.Viewer):
    """A page of the app; :meth:`view` is re-rendered when the month or the language changes."""

    # Always constructed with a state; without a default, param types it as optional.
    state: param.ClassSelector[AppState] = param.ClassSelector(class_=AppState)  # type: ignore[assignment]

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._rendered: pn.viewable.Viewable | None = None

    def view(self) -> pn.viewable.Viewable:
        raise NotImplementedError

    def __panel__(self) -> pn.viewable.Viewable:
        """The page's one reactive pane, built on first display and reused on every later one.

        Panel never unwatches a bound function's parameters: a fresh pane per display would
        stay subscribed to the month and the language after it left the screen, and every
        switch would render the page once more per earlier display. The stale renders replaced
        widgets while the user clicked them (an export clicked during the switch was lost).
        """
        if self._rendered is None:
            state = self.state.param
            render = pn.bind(lambda _month, _language: self.view(), state.month, state.language)
            # A bound function becomes a ParamFunction pane (a Viewable); pn.panel is typed wider.
            self._rendered = pn.panel(render, loading_indicator=True)  # type: ignore[assignment]
        return self._rendered  # type: ignore[return-value]

    def segment_options(self) -> dict[str, int]:
        """The month's segments, localised name → segment number, biggest first."""
        state = self.state
        if not state.month:
            return {}
        rows = data.profiles(state.warehouse_uri, state.month).to_dict("records")
        return {localized(r, "name", state.language): r["segment"] for r in rows}

    def segment_identities(self) -> dict[int, int]:
        """The month's segment number → its identity (``segment_id``)."""
        state = self.state
        if not state.month:
            return {}
        frame = data.profiles(state.warehouse_uri, state.month)
        return dict(zip(frame["segment"].astype(int), data.identities(frame), strict=True))

    def segment_colours(self) -> dict[int, str]:
        """The month's segment number → its identity's colour (the same on every page)."""
        colours = data.segment_colours(self.state.warehouse_uri)
        return {s: colour_of(colours, i) for s, i in self.segment_identities().items()}

    def segment_selector(self) -> pn.widgets.Select:
        """A segment picker that follows the month and the language (keeps its choice when the
        segment still exists)."""
        select = pn.widgets.Select(width=320)

        def refresh(*_events) -> None:
            select.name = self.state.t("segment")
            current = select.value
            select.options = self.segment_options()
            choices = list(select.options.values())
            select.value = current if current in choices or not choices else choices[0]

        self.state.param.watch(refresh, ["month", "language"])
        refresh()
        return select

    def empty_warehouse(self) -> pn.viewable.Viewable:
        notice = self.not_segmented_notice()
        alert = pn.pane.Alert(html.escape(self.state.t("no_data")), alert_type="warning")
        return pn.Column(alert, notice) if notice is not None else alert

    def not_segmented_notice(self) -> pn.viewable.Viewable | None:
        """Months ingested but not segmented (too few customers...), each with why and what is
        needed; None when every ingested month has segments."""
        text = not_segmented_markdown(
            data.not_segmented_months(self.state.warehouse_uri), self.state.t("not_segmented")
        )
        return pn.pane.Alert(text, alert_type="info") if text else None


def not_segmented_markdown(months: dict[str, dict[str, str]], title: str) -> str:
    """The notice's text: one line per month not segmented ("" when there is none)."""
    if not months:
        return ""
    lines = [f"**{html.escape(title)}**"]
    for month, why in months.items():
        lines.append(
            f"- {html.escape(month)}: {html.escape(why['reason'])} → {html.escape(why['needed'])}"
        )
    return "\n".join(lines)

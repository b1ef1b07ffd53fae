"""Amazing Segments for business users: ``panel serve panel_app/app.py``.

The warehouse comes from the same settings as the pipeline (``AMAZING_WAREHOUSE``, or the
embedded default under ``AMAZING_HOME``); S3 credentials from the usual ``AWS_*`` variables.
Pages are built on first visit, so opening the app reads only the small overview tables.
"""

from __future__ import annotations

import html

import panel as pn
import param

from amazing_assets.lib.settings import load_settings
from panel_app.access import may_open
from panel_app.i18n import LANGUAGES, label
from panel_app.pages.customer import CustomerPage
from panel_app.pages.explorer import Explorer, warm_up
from panel_app.pages.migration import Migration
from panel_app.pages.outcomes import Outcomes
from panel_app.pages.overview import Overview
from panel_app.pages.profiles import SegmentProfiles
from panel_app.pages.quality import ModelQuality
from panel_app.pages.value import CustomerValue
from panel_app.screen import SCREEN_CSS, VIEWPORT, PageLanguage
from panel_app.state import PAGES, AppState

PAGE_CLASSES = {
    "overview": Overview,
    "profiles": SegmentProfiles,
    "explorer": Explorer,
    "migration": Migration,
    "value": CustomerValue,
    "quality": ModelQuality,
    "outcomes": Outcomes,
    "customer": CustomerPage,
}

pn.extension("tabulator", notifications=True, loading_indicator=True, sizing_mode="stretch_width")


class SegmentsApp(pn.viewable.Viewer):
    """Language, month and page in the sidebar; the chosen page in the main area."""

    # Always constructed with a state; without a default, param types it as optional.
    state: param.ClassSelector[AppState] = param.ClassSelector(class_=AppState)  # type: ignore[assignment]

    def __init__(self, **params) -> None:
        super().__init__(**params)
        state = self.state
        self._pages: dict[str, pn.viewable.Viewer] = {}
        self._title: pn.pane.Markdown | None = None
        self.language = pn.widgets.RadioButtonGroup(
            options=LANGUAGES, value=state.language, button_type="default"
        )
        self.month = pn.widgets.Select(options=state.months, value=state.month)
        self.page = pn.widgets.RadioButtonGroup(
            value=state.page, orientation="vertical", button_type="light", button_style="outline"
        )
        self.language.link(state, value="language")
        self.month.link(state, value="month")
        self.page.link(state, value="page")
        self.page_language = PageLanguage(lang=state.language, height=0, margin=0)
        state.param.watch(self._relabel, ["language"])
        self._relabel()

    def _relabel(self, *_events) -> None:
        language = self.state.language
        self.page_language.lang = language
        self.language.name = label("language", language)
        self.month.name = label("month", language)
        self.page.options = {label(p, language): p for p in PAGES}
        self.page.value = self.state.page
        if self._title is not None:
            self._title.object = self._title_text()

    def page_view(self, page: str) -> pn.viewable.Viewer:
        if page not in self._pages:
            self._pages[page] = PAGE_CLASSES[page](state=self.state)
        return self._pages[page]

    @param.depends("state.page")
    def main(self) -> pn.viewable.Viewable:
        """The chosen page under its title. Rebuilt when the page changes only: the page follows
        the language itself, the title is relabelled in place (a rebuild per language switch
        rendered the page twice and replaced its widgets while they were being clicked)."""
        page = self.state.page
        self._title = pn.pane.Markdown(self._title_text())
        return pn.Column(self._title, self.page_view(page), sizing_mode="stretch_width")

    def _title_text(self) -> str:
        return f"## {label(self.state.page, self.state.language)}"

    def template(self) -> pn.template.BootstrapTemplate:
        return template(
            sidebar=[self.language, self.month, self.page, self.page_language],
            main=[pn.panel(self.main, loading_indicator=True)],
        )

    def __panel__(self) -> pn.viewable.Viewable:
        # A template is servable (pn.panel accepts it) but not a Viewable: serve it, never nest it.
        return self.template()  # type: ignore[return-value]


def template(**areas) -> pn.template.BootstrapTemplate:
    """The Bootstrap template: unlike the Fast ones it loads no web font from Google, so the app
    works on an intranet without internet access (and shows no failed requests)."""
    return pn.template.BootstrapTemplate(
        title="Amazing Segments",
        header_background="#0969da",
        sidebar_width=280,
        meta_viewport=VIEWPORT,  # a phone lays the page out at its own width, not at 40 %
        raw_css=[SCREEN_CSS],
        **areas,
    )


def refused() -> pn.template.BootstrapTemplate:
    message = " / ".join(label("access_denied", language) for language in LANGUAGES.values())
    hint = (
        "Start the app with `panel serve panel_app/app.py --basic-auth <password or users.json> "
        "--cookie-secret <secret>` or an OAuth provider (`--oauth-provider`)."
    )
    return template(main=[pn.pane.Alert(f"{html.escape(message)}<br>{hint}", alert_type="danger")])


def build() -> pn.template.BootstrapTemplate:
    if not may_open(pn.state.user):
        return refused()
    settings = load_settings()
    state = AppState(
        warehouse_uri=settings.warehouse_uri,
        # Same rule as the pipeline's key resource: a key file only on the embedded default.
        key_file=settings.local_key_file if settings.is_local else None,
    )
    open_link(state, pn.state.session_args or {})
    return SegmentsApp(state=state).template()


def open_link(state: AppState, args: dict[str, list[bytes]]) -> None:
    """``?month=2019-12&page=profiles&language=en`` (the links in alerts): each known value is
    applied, anything else is ignored (a link never fails the page)."""
    for name, allowed in (
        ("month", state.months),
        ("page", PAGES),
        ("language", list(LANGUAGES.values())),
    ):
        values = args.get(name) or []
        value = values[0].decode(errors="replace") if values else None
        if value in allowed:
            setattr(state, name, value)


if pn.state.served:
    warm_up()  # once per process: datashader's JIT, before the first Explorer visit
    build().servable()

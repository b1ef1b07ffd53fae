"""Any screen: the page's language for assistive tools, a phone-sized layout, visible focus.

Panel serves ``<html lang="en">`` whatever the UI language and Bootstrap keeps the sidebar open
on a phone; :class:`PageLanguage` (a tiny browser component) sets ``lang`` from the chosen
language and, on a screen narrower than :data:`NARROW_PX`, starts with the sidebar folded; it
also mends two accessibility faults of the template's markup (see its ``_esm``).
:data:`SCREEN_CSS` gives the template's own elements a visible keyboard focus (widgets drawn in
a shadow root keep Bokeh's focus style).
"""

from __future__ import annotations

import param
from panel.custom import JSComponent

NARROW_PX = 800
VIEWPORT = "width=device-width, initial-scale=1"

SCREEN_CSS = """
:focus-visible { outline: 3px solid #0550ae !important; outline-offset: 2px; }
"""
"""Global CSS (the template's own page, outside the components' shadow roots)."""


class PageLanguage(JSComponent):
    """Invisible: keeps ``document.documentElement.lang`` equal to ``lang``; on first render,
    folds the sidebar on a narrow screen (the toggle in the header opens it)."""

    lang = param.String(default="fr")
    narrow_px = param.Integer(default=NARROW_PX)

    _esm = """
    export function render({ model }) {
      const apply = () => { document.documentElement.lang = model.lang }
      apply()
      model.on('lang', apply)
      if (window.innerWidth < model.narrow_px) {
        const sidebar = document.getElementById('sidebar')
        const toggle = document.getElementById('sidebar-toggle')
        if (sidebar) { sidebar.classList.remove('show') }
        if (toggle) { toggle.setAttribute('aria-expanded', 'false') }
      }
      // The template's sidebar is a <ul> of widget containers, not of list items: no list
      // semantics (axe-core "list"). Its main area scrolls: it takes the focus, so the keyboard
      // can scroll a page without buttons or fields (axe-core "scrollable-region-focusable").
      const nav = document.querySelector('#sidebar ul.nav')
      if (nav) { nav.setAttribute('role', 'none') }
      const main = document.getElementById('main')
      if (main) { main.tabIndex = 0 }
      const span = document.createElement('span')
      span.hidden = true
      return span
    }
    """

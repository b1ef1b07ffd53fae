"""Tables that scroll sideways on a phone and can be scrolled from the keyboard.

Panel's DataFrame pane scrolls its own host element when the table is wider than the screen,
and that element cannot take the focus: a keyboard user cannot scroll it (axe-core's
``scrollable-region-focusable``, "serious"). :func:`table_pane` draws the same table (Panel's
``panel-df`` look) inside a named region that takes the focus and scrolls itself.
"""

from __future__ import annotations

import html

import pandas as pd
import panel as pn
from panel.io.resources import CDN_DIST

SCROLL_CSS = """
:host { overflow: visible; }
.table-scroll { overflow-x: auto; max-width: 100%; }
.table-scroll table.panel-df { font-size: 13px; }
"""


def table_html(frame: pd.DataFrame, label: str, index: bool = False) -> str:
    """The table (values escaped) inside a focusable region named ``label``."""
    table = frame.to_html(index=index, classes="panel-df", border=0, escape=True)
    name = html.escape(label, quote=True)
    return f'<div class="table-scroll" role="region" tabindex="0" aria-label="{name}">{table}</div>'


def table_pane(frame: pd.DataFrame, label: str, index: bool = False, **params) -> pn.pane.HTML:
    params.setdefault("sizing_mode", "stretch_width")
    return pn.pane.HTML(
        table_html(frame, label, index),
        stylesheets=[f"{CDN_DIST}css/dataframe.css", SCROLL_CSS],
        **params,
    )

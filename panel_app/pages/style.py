"""Shared look of the pages' cards (components render in shadow DOM: CSS travels with them).

Text is never smaller than 12 px (issue 27): the components' base size is 12 px, so the smaller
lines take ``max(12px, …em)`` rather than a fraction that would fall to ~10 px."""

from __future__ import annotations

CARD_CSS = """
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 12px; }
.card { border: 1px solid #d0d7de; border-radius: 8px; padding: 12px 16px; background: #fff; }
.card .label { color: #57606a; font-size: max(12px, 0.9em); }
.card .value { font-size: 1.5em; font-weight: 600; margin: 4px 0; }
.card .note { color: #57606a; font-size: max(12px, 0.85em); }
.card .action { color: #0969da; font-size: max(12px, 0.85em); margin-top: 6px; font-weight: 500; }
"""

NOTICE_CSS = """
.notice { padding: 12px 16px; border-radius: 6px; border: 1px solid #d4a72c;
  background: #fff8c5; color: #3b2300; font-size: 14px; line-height: 1.5; margin: 0; }
.notice.success { border-color: #4ac26b; background: #dafbe1; color: #0f3d1f; }
.notice.info { border-color: #54aeff; background: #ddf4ff; color: #0a3069; }
.notice ul { margin: 6px 0 0 0; padding-left: 20px; }
"""
"""Boxes for warnings and verdicts whose text contrasts with their background (≥ 4.5:1; Panel's
Alert colours do not reach axe-core's threshold). ``notice`` alone is a warning; add
``success`` or ``info``."""

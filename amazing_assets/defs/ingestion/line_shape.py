"""An export line as a message may show it: its shape, never its values (issue 24, finding 3).

Messages (a rejected month's failure, logs) reach Dagster's event log, the compute logs and
the log stream, which nobody erases. Masking the identifiers left every other value, and ids
in shapes the mask did not know (``00541312140``, an id inside a brand). What an operator
needs from an example line is its format: how many fields, which separators, how a date is
written. So digits become ``9`` and letters ``a``; punctuation, spaces, the REES46 event
types and ``UTC`` stay. ``01/11/2019 10:00,view,44600062`` shows as
``99/99/9999 99:99,view,99999999``. The lines themselves are in ``rejected_events``.
"""

from __future__ import annotations

import re

from amazing_assets.lib.schema import EVENT_COLUMNS, EVENT_TYPES

_KEPT_WORDS = frozenset([*EVENT_TYPES, *EVENT_COLUMNS, "UTC"])
_WORD = re.compile(r"[^\W\d]+|\d", re.UNICODE)  # a run of letters, or one digit


def line_shape(line: str) -> str:
    """``line`` with digits as ``9`` and letters as ``a``, except the event types, column
    names and ``UTC`` (format words, not data)."""
    return _WORD.sub(_shape_of, line)


def _shape_of(match: re.Match[str]) -> str:
    word = match.group(0)
    if word.isdigit():
        return "9"
    return word if word in _KEPT_WORDS else "a" * len(word)

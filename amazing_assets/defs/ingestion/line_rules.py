"""What a line of an export is, so that no quoting can merge lines (issue 24, finding 6).

The CSV parser lets a quoted field run over line ends, as RFC 4180 allows. A REES46 export
never needs that (its real files hold no quote at all; re-saved copies quote fields that hold
commas, on one line), and one stray quote (a brand ``"apple``) then swallowed every following
line into one wrong row, or failed the file. The rule here:

- a line ends at LF, CRLF or a lone CR (what every CSV tool accepts as a line end);
- a quoted field may not span a line end: a line that leaves a quote open is set aside whole
  (the caller quarantines it as ``unclosed_quote``) and the next line is read afresh.

So every physical line reaches the parser as one row or is set aside as one defect row.

Cost: a ``find`` per chunk when the chunk holds no quote (the REES46 case), else one
vectorised RE2 match per line (arrow's compute kernels, no Python loop per line).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_LF, _CR = 10, 13

# One field as the pyarrow CSV parser reads it (quote ``"``, doubled quote escapes, no escape
# character): a quoted part closed on the line, optionally followed by unquoted text that does
# not start with a quote (which would be an escaped quote inside the field); or an unquoted
# field, whose quotes after its first character are literal; or nothing.
_FIELD = r'(?:"(?:[^"\n]|"")*"(?:[^",\n][^,\n]*)?|[^",\n][^,\n]*|)'
CLOSED_LINE = f"^{_FIELD}(?:,{_FIELD})*\n?$"
"""A line (with its LF, if any) on which every quoted field is closed: the parser reads it as
one row. RE2 syntax, matched on bytes (Latin-1 mode: any byte is a character)."""


def normalise_line_ends(data: bytes) -> bytes:
    """``data`` with each lone CR (old Mac line end) turned into LF; CRLF stays. A CR at the
    very end counts as lone: the caller must not cut ``data`` between a CR and its LF.
    """
    if data.find(b"\r") < 0:
        return data
    text = np.frombuffer(data, np.uint8)
    cr = np.flatnonzero(text == _CR)
    after = cr + 1
    lone = after >= len(text)
    lone[~lone] = text[after[~lone]] != _LF
    if not lone.any():
        return data
    fixed = text.copy()
    fixed[cr[lone]] = _LF
    return fixed.tobytes()


def split_open_quotes(data: bytes) -> tuple[bytes, list[bytes]]:
    """``data`` (whole lines, the last one possibly without its LF) without the lines that
    leave a quoted field open, and those lines (without their line end).
    """
    if data.find(b'"') < 0:
        return data, []
    # The lines as one arrow array over ``data`` itself (no copy): offsets after each LF.
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == _LF) + 1
    offsets = np.concatenate(
        ([0], ends, [len(data)] if ends.size == 0 or ends[-1] != len(data) else [])
    )
    offsets = offsets.astype(np.int64)
    lines = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(offsets) - 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    closed = pc.match_substring_regex(lines, CLOSED_LINE)
    if pc.all(closed).as_py():
        return data, []
    kept, set_aside, at = [], [], 0
    for index in np.flatnonzero(~closed.to_numpy(zero_copy_only=False)).tolist():
        start, end = int(offsets[index]), int(offsets[index + 1])
        kept.append(data[at:start])
        set_aside.append(data[start:end].rstrip(b"\n").removesuffix(b"\r"))
        at = end
    kept.append(data[at:])
    return b"".join(kept), set_aside

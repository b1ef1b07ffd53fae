"""File paths from a Delta commit log, confined to the table they belong to.

The commit log names each data file by a path relative to the table root. Nothing in the
format stops a log entry from naming ``../other_table/part.parquet``, ``/etc/passwd`` or
``s3://another-bucket/x.parquet``; a reader that joins such a path to the table root reads
whatever it points at. Whoever can write one log entry (a compromised writer, a restored
backup, a hand-edited table) could then make the pipeline or the app read, and republish,
another table's rows, the raw zone's included. So every path read from a log is checked here
before any file is opened: relative, no scheme, and inside the table once normalised
(percent-encoding decoded first, as the protocol stores paths as URIs).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from urllib.parse import unquote, urlparse


class UnsafeTablePathError(ValueError):
    """A commit log names a file outside its table; nothing of the table is read."""


def confined_path(path: str, table_uri: str) -> str:
    """``path`` normalised, when it names a file inside the table; refused otherwise.

    The message names the table, not the path: the path is attacker-chosen text.
    """
    decoded = unquote(path)
    reason = None
    if not decoded or "\x00" in decoded:
        reason = "an empty or NUL-holding path"
    elif urlparse(decoded).scheme or urlparse(path).scheme:
        reason = "a path with a scheme (another store)"
    elif decoded.startswith(("/", "\\")) or posixpath.isabs(decoded):
        reason = "an absolute path"
    else:
        normal = posixpath.normpath(decoded)
        if normal in (".", "..") or normal.startswith("../"):
            reason = "a path that leaves the table (../)"
        else:
            return normal
    raise UnsafeTablePathError(
        f"the commit log of Delta table {table_uri} names a data file by {reason}: refused, "
        "nothing of the table was read. Inspect the table's _delta_log for tampering."
    )


def confined_paths(paths: Iterable[str], table_uri: str) -> list[str]:
    return [confined_path(p, table_uri) for p in paths]

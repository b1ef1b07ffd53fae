"""A byte stream with two limits an export must respect: line length and decompressed size.

Why: the CSV parser needs a whole row inside one block, so a single 50 MB field (an unclosed
quote, binary junk) used to fail the file, and with it the month. Lines longer than
:data:`MAX_ROW_BYTES` are taken out of the stream instead and handed back to the caller, which
quarantines them (code ``row_too_long``) and reads the rest. And a ``.gz`` export is read through
a decompressor with no bound: a small "gzip bomb" could fill the worker's memory and disk.
:data:`MAX_DECOMPRESSED_BYTES` and :data:`MAX_COMPRESSION_RATIO` stop the read with a message.

The check costs a few ``find`` calls per 4 MiB chunk when no line is long (the usual case): a
run of ``MAX_ROW_BYTES`` bytes without a newline must contain a whole aligned block of half that
size without one, so only blocks are probed, and lines are split in Python only in a chunk
where a probe finds no newline.

It is also where lines are made lines (:mod:`.line_rules`): lone CRs become
LFs, and a line that leaves a quote open is set aside (``unclosed``) instead of swallowing the
lines after it; with ``skip_first_line`` the header line is dropped here, by the same rule
(the parser's own ``skip_rows`` counts rows, which an open quote in the header would merge).
"""

from __future__ import annotations

import io

from amazing_assets.defs.ingestion.line_rules import normalise_line_ends, split_open_quotes

MAX_ROW_BYTES = 1024 * 1024
"""A real event line is ~150 bytes; a million bytes is no event. Must stay below the parser's
block size (a row must fit in one block)."""
KEPT_PREFIX_BYTES = 1024
"""How much of an overlong line the quarantine keeps (enough to recognise it)."""
MAX_DECOMPRESSED_BYTES = 64 * 1024**3
"""A real month is ~6 GB of CSV; ten times that is no export."""
MAX_COMPRESSION_RATIO = 100
"""CSV of events compresses 5-10x with gzip; past 100x (and 1 GiB out) it is a bomb."""
RATIO_CHECK_AFTER_BYTES = 1024**3


class ExportTooLargeError(OSError):
    """A compressed export decompresses to more than any real export."""


class BoundedLines(io.RawIOBase):
    """Reads ``raw`` (a binary stream) without lines over ``max_row_bytes``; those are collected
    (their first :data:`KEPT_PREFIX_BYTES`, decoded) in ``overlong`` for the caller to drain.

    ``compressed_size``: the size of the file on storage when ``raw`` decompresses it; the
    decompressed output is then capped (absolute size and ratio). Lines that leave a quote open
    are collected whole (decoded) in ``unclosed``.
    """

    CHUNK = 4 * 1024 * 1024

    def __init__(
        self,
        raw,
        *,
        name: str,
        max_row_bytes: int = MAX_ROW_BYTES,
        compressed_size: int | None = None,
        skip_first_line: bool = False,
    ) -> None:
        super().__init__()
        self.raw, self.name, self.max_row = raw, name, max_row_bytes
        self.compressed_size = compressed_size
        self.overlong: list[str] = []
        self.unclosed: list[str] = []
        self._skipping = skip_first_line  # before the end of the header line
        self._held_cr = False  # a chunk's last byte was CR: its LF may start the next chunk
        self.bytes_in = 0
        self._tail = b""  # the unfinished last line, held back until its end is seen
        self._dropping = False  # inside an overlong line: discard up to its newline
        self._dropped = b""  # ...keeping its first KEPT_PREFIX_BYTES
        self._out = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._out and not self._eof:
            self._out = self._next_complete_lines()
        data, self._out = self._out[: len(buffer)], self._out[len(buffer) :]
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self.raw.close()
        super().close()

    def at_end(self) -> bool:
        """True when no byte is left to read (e.g. a header-only file); reads ahead if needed."""
        while not self._out and not self._eof:
            self._out = self._next_complete_lines()
        return not self._out

    def _next_complete_lines(self) -> bytes:
        chunk = self._next_chunk()
        if not chunk:
            self._eof = True
            if self._dropping:
                self._finish_dropping()
            last, self._tail = self._tail, b""
            if self._skipping:
                return b""  # a file of one line without its line end: the header alone
            return self._closed_lines(last)
        if self._skipping:
            newline = chunk.find(b"\n")
            if newline < 0:
                return b""
            self._skipping, chunk = False, chunk[newline + 1 :]
        if self._dropping:
            newline = chunk.find(b"\n")
            self._dropped += chunk[: newline if newline >= 0 else len(chunk)][
                : KEPT_PREFIX_BYTES - len(self._dropped)
            ]
            if newline < 0:
                return b""
            self._finish_dropping()
            chunk = chunk[newline + 1 :]
        data = self._tail + chunk if self._tail else chunk
        last_newline = data.rfind(b"\n")
        complete, self._tail = data[: last_newline + 1], data[last_newline + 1 :]
        if len(self._tail) > self.max_row:
            # An unfinished line already over the limit: skip the rest of it as it comes.
            self._dropping, self._dropped = True, self._tail[:KEPT_PREFIX_BYTES]
            self._tail = b""
        if complete and self._may_hold_overlong(complete):
            complete = self._without_overlong(complete)
        return self._closed_lines(complete)

    def _next_chunk(self) -> bytes:
        """The next chunk of ``raw`` with lone CRs made LFs (a trailing CR held back until the
        next chunk shows whether an LF follows it); empty at the end of ``raw``."""
        while True:
            raw = self.raw.read(self.CHUNK)
            if raw:
                self._count(len(raw))
            chunk = b"\r" + raw if self._held_cr else raw
            self._held_cr = False
            if raw and chunk.endswith(b"\r"):
                chunk, self._held_cr = chunk[:-1], True
                if not chunk:
                    continue
            return normalise_line_ends(chunk)  # at the end, a held CR is a line end

    def _closed_lines(self, data: bytes) -> bytes:
        """``data`` without the lines that leave a quote open (set aside in ``unclosed``)."""
        data, unclosed = split_open_quotes(data)
        self.unclosed.extend(line.decode("utf-8", errors="replace") for line in unclosed)
        return data

    def _count(self, n: int) -> None:
        self.bytes_in += n
        if self.compressed_size is None:
            return
        ratio = self.bytes_in / max(self.compressed_size, 1)
        if self.bytes_in > MAX_DECOMPRESSED_BYTES or (
            self.bytes_in > RATIO_CHECK_AFTER_BYTES and ratio > MAX_COMPRESSION_RATIO
        ):
            raise ExportTooLargeError(
                f"{self.name} decompresses to more than {self.bytes_in / 2**30:.1f} GiB from "
                f"{self.compressed_size / 2**20:.1f} MiB (ratio {ratio:.0f}); no export is that "
                "large: check the file (a real month is ~6 GB of CSV) and re-export it"
            )

    def _may_hold_overlong(self, data: bytes) -> bool:
        """False when no line of ``data`` (which ends with a newline) can be over the limit."""
        block = max(self.max_row // 2, 1)
        return any(data.find(b"\n", at, at + block) < 0 for at in range(0, len(data), block))

    def _without_overlong(self, data: bytes) -> bytes:
        lines = data.split(b"\n")  # the last item is empty: data ends with a newline
        kept = []
        for line in lines[:-1]:
            if len(line) > self.max_row:
                self._set_aside(line)
            else:
                kept.append(line)
        return b"\n".join(kept) + b"\n" if kept else b""

    def _finish_dropping(self) -> None:
        self._set_aside(self._dropped)
        self._dropping, self._dropped = False, b""

    def _set_aside(self, line: bytes) -> None:
        self.overlong.append(line[:KEPT_PREFIX_BYTES].decode("utf-8", errors="replace"))

    def drain_overlong(self) -> list[str]:
        lines, self.overlong = self.overlong, []
        return lines

    def drain_unclosed(self) -> list[str]:
        lines, self.unclosed = self.unclosed, []
        return lines

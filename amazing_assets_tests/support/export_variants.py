"""Variants of one month's export, as users and their tools produce them, and what a read of the
landing zone makes of them.

A :class:`Recipe` is a seeded combination of transformations (column order, line endings, BOM,
quoting, pandas index column, float ids, exports joined with ``cat``, blank lines, rows of the
neighbouring month, gzip, byte-range splits). :func:`render` applies it to an :class:`Export`
and says what the read must find; :func:`classify_landing` reads a landing zone through the
data source ``raw_events`` uses and applies the cleaning rules.
"""

from __future__ import annotations

import csv
import gzip
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from amazing_assets.defs.cleaning.classification import classify_events
from amazing_assets.defs.ingestion.assets import read_landing
from amazing_assets.defs.ingestion.landing import list_month_files
from amazing_assets.defs.ingestion.landing_ingest import stage_months
from amazing_assets.defs.ingestion.landing_source import DEFAULT_SPLIT_BYTES
from amazing_assets.lib.delta_source import DeltaWriter
from amazing_assets.lib.io_managers import read_spark
from amazing_assets.lib.schema import EVENT_COLUMNS, WARNING_COLUMN
from amazing_assets.lib.storage import Location

MONTH = "2019-10"
# What identifies an event; ``category_id`` is left out on purpose (it may be approximate).
KEY_COLUMNS = ("event_time", "event_type", "product_id", "price", "user_id", "user_session")
TEXT_COLUMNS = {"event_time", "event_type", "category_code", "brand", "user_session"}
INDEX_STYLES = (None, "blank", "Unnamed: 0", "unlabelled")
NEIGHBOUR_DAYS = ("2019-09-30", "2019-11-01")


@dataclass(frozen=True)
class Export:
    """A month's export: complete rows (fields in :data:`EVENT_COLUMNS` order) and, like the real
    excerpt, possibly a last line cut off mid-row (kept verbatim, so always too short)."""

    rows: tuple[tuple[str, ...], ...]
    tail: str | None = None

    @classmethod
    def load(cls, path: Path, head: int | None = None) -> Export:
        """The export at ``path`` (its first ``head`` complete rows, and its cut-off last line)."""
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        assert lines[0].split(",") == list(EVENT_COLUMNS), lines[0]
        records = list(csv.reader(lines[1:]))
        tail = lines[-1] if len(records[-1]) != len(EVENT_COLUMNS) else None
        complete = [tuple(r) for r in records if len(r) == len(EVENT_COLUMNS)]
        return cls(tuple(complete[:head]), tail)

    def text(self) -> bytes:
        """The export as its source wrote it: header, rows, cut-off line without a newline."""
        lines = [",".join(EVENT_COLUMNS), *(",".join(r) for r in self.rows)]
        body = "\n".join(lines) + "\n"
        return (body + (self.tail or "")).encode()

    @property
    def data_lines(self) -> int:
        return len(self.rows) + (self.tail is not None)


@dataclass(frozen=True)
class Recipe:
    """One seeded combination of transformations of an export."""

    seed: int
    order: tuple[int, ...]  # column permutation (identity = as exported)
    index: str | None  # pandas index column: header "" / "Unnamed: 0" / no header name
    float_ids: bool  # ids through a float64 column, as pandas writes them
    quoting: str | None  # "all" fields quoted, or only the "text" ones
    crlf: bool
    bom: bool
    parts: int  # > 1: exports joined with `cat`, each with its header (and BOM)
    blank_lines: int
    outside_rows: int  # rows copied to the neighbouring day of another month
    gzip: bool  # each part gzipped, then joined (`cat a.csv.gz b.csv.gz` is valid gzip)
    split_bytes: int | None  # byte ranges read in parallel (plain files only)

    @classmethod
    def draw(cls, seed: int) -> Recipe:
        rng = random.Random(seed)
        order = list(range(len(EVENT_COLUMNS)))
        if rng.random() < 0.5:
            rng.shuffle(order)
        compressed = rng.random() < 0.3
        return cls(
            seed=seed,
            order=tuple(order),
            index=rng.choice(INDEX_STYLES),
            float_ids=rng.random() < 0.5,
            quoting=rng.choice((None, "all", "text")),
            crlf=rng.random() < 0.5,
            bom=rng.random() < 0.4,
            parts=rng.choice((1, 1, 2, 3)),
            blank_lines=rng.choice((0, 0, 1, 3)),
            outside_rows=rng.choice((0, 0, 2, 9)),
            gzip=compressed,
            split_bytes=None if compressed else rng.choice((None, 60_000, 150_000)),
        )

    def describe(self) -> str:
        parts = [f"seed{self.seed}"]
        flags = {
            "permuted": self.order != tuple(sorted(self.order)),
            f"index={self.index}": self.index is not None,
            "float-ids": self.float_ids,
            f"quoted={self.quoting}": self.quoting is not None,
            "crlf": self.crlf,
            "bom": self.bom,
            f"cat{self.parts}": self.parts > 1,
            f"blank{self.blank_lines}": self.blank_lines > 0,
            f"outside{self.outside_rows}": self.outside_rows > 0,
            "gz": self.gzip,
            f"split{self.split_bytes}": self.split_bytes is not None,
        }
        return "-".join(parts + [name for name, on in flags.items() if on])


@dataclass
class Rendered:
    """A variant's bytes, file name and what reading it must find."""

    data: bytes
    name: str
    data_lines: int  # lines holding a row: not headers, not blank lines
    outside_rows: int
    lossy_rows: int  # rows whose category_id was written through a float


def render(export: Export, recipe: Recipe) -> Rendered:
    """``export`` transformed by ``recipe``."""
    rng = random.Random(recipe.seed * 7919 + 1)
    rows = [list(r) for r in export.rows]
    rows = _with_neighbouring_month_rows(rows, recipe.outside_rows, rng)
    lossy = sum(1 for r in rows if r[EVENT_COLUMNS.index("category_id")]) * recipe.float_ids
    lines = [_row_line(r, recipe) for r in rows]
    tail = _tail_line(export.tail, recipe) if export.tail is not None else None
    parts = _split(lines, recipe.parts)
    numbered = 0
    chunks: list[bytes] = []
    for i, part in enumerate(parts):
        body = []
        for line in part:
            body.append(_index_prefix(recipe, numbered) + line)
            numbered += 1
        last = i == len(parts) - 1
        chunks.append(_part_bytes(recipe, body, tail if last else None, numbered, rng, last))
    data = b"".join(gzip.compress(c) if recipe.gzip else c for c in chunks)
    name = "events.csv.gz" if recipe.gzip else "events.csv"
    return Rendered(data, name, len(rows) + (tail is not None), recipe.outside_rows, lossy)


def _with_neighbouring_month_rows(
    rows: list[list[str]], count: int, rng: random.Random
) -> list[list[str]]:
    """Copies of random rows dated on the day before or after the month, at random places."""
    rows = list(rows)
    for _ in range(count):
        copy = list(rng.choice(rows))
        copy[0] = f"{rng.choice(NEIGHBOUR_DAYS)}{copy[0][10:]}"
        rows.insert(rng.randrange(len(rows) + 1), copy)
    return rows


def _row_line(row: list[str], recipe: Recipe) -> str:
    values = dict(zip(EVENT_COLUMNS, row, strict=True))
    if recipe.float_ids:
        values = _through_floats(values)
    return _join([(c, values[c]) for c in _columns(recipe)], recipe)


def _through_floats(values: dict[str, str]) -> dict[str, str]:
    """Ids as pandas writes a float64 column: ``123.0``, or ``2.1038074595953876e+18``."""
    out = dict(values)
    for column in ("product_id", "category_id", "user_id"):
        if out[column].isdigit():
            out[column] = repr(float(out[column]))
    return out


def _columns(recipe: Recipe) -> list[str]:
    return [EVENT_COLUMNS[i] for i in recipe.order]


def _join(fields: list[tuple[str, str]], recipe: Recipe) -> str:
    def quoted(column: str, value: str) -> str:
        if recipe.quoting == "all" or (recipe.quoting == "text" and column in TEXT_COLUMNS):
            return f'"{value}"'
        return value

    return ",".join(quoted(c, v) for c, v in fields)


def _tail_line(tail: str, recipe: Recipe) -> str:
    """The cut-off line stays cut off: same fields, quoted like the rest, never reordered."""
    return _join(list(zip(EVENT_COLUMNS, tail.split(","), strict=False)), recipe)


def _header_line(recipe: Recipe) -> str:
    header = _join([(c, c) for c in _columns(recipe)], recipe)
    if recipe.index in ("blank", "Unnamed: 0"):
        name = "" if recipe.index == "blank" else recipe.index
        return _join([("index", name)], recipe) + "," + header
    return header


def _index_prefix(recipe: Recipe, number: int) -> str:
    return "" if recipe.index is None else f"{number},"


def _split(lines: list[str], parts: int) -> list[list[str]]:
    size = -(-len(lines) // parts)
    return [lines[i : i + size] for i in range(0, len(lines), size)] or [[]]


def _part_bytes(
    recipe: Recipe,
    body: list[str],
    tail: str | None,
    number: int,
    rng: random.Random,
    last: bool,
) -> bytes:
    """One export file: header, rows, blank lines in between (and after, on the last part)."""
    eol = "\r\n" if recipe.crlf else "\n"
    lines = list(body)
    for _ in range(recipe.blank_lines):
        lines.insert(rng.randrange(len(lines) + 1), "")
    text = eol.join([_header_line(recipe), *lines]) + eol
    if tail is not None:
        text += _index_prefix(recipe, number) + tail
    if last and recipe.blank_lines:
        text += eol * (recipe.blank_lines + (tail is not None))
    return ("\ufeff" if recipe.bom else "").encode() + text.encode()


@dataclass
class Outcome:
    """What reading and cleaning a month produced."""

    kept: Counter = field(default_factory=Counter)  # KEY_COLUMNS tuples of the kept rows
    dropped: Counter = field(default_factory=Counter)  # reason -> rows
    warnings: Counter = field(default_factory=Counter)  # _warning code -> rows (kept or not)
    kept_warnings: Counter = field(default_factory=Counter)  # _warning code -> kept rows
    kept_without_category: int = 0  # kept rows whose category_id is null

    @property
    def rows(self) -> int:
        return sum(self.kept.values()) + sum(self.dropped.values())


def write_month(landing: Path, name: str, data: bytes) -> Path:
    """Put one export in ``landing``'s month folder; returns the landing root."""
    folder = landing / MONTH
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return landing


def read_month(spark, landing: Path, split_bytes: int | None = None):
    """The month as raw_events stores it: staged by the parsing tasks (optionally in small byte
    ranges), committed to a Delta table beside ``landing``, and read back.

    The statistics the staging tasks counted must equal a Spark count of the stored rows (rows,
    rows outside the month, lossy rows per file and defect code), an independent check of the
    figures the quality gates decide on.
    """
    location = Location.parse(str(landing))
    files = list_month_files(location, MONTH)
    table = Location.parse(str(landing.parent / f"raw_events-{uuid.uuid4().hex[:8]}"))
    schema = read_landing(spark, location, files, MONTH).schema
    writer = DeltaWriter(table, schema, [MONTH], write_id=uuid.uuid4().hex)
    staged = stage_months(
        spark,
        location,
        {MONTH: files},
        writer,
        datetime.now(UTC),
        split_bytes=split_bytes or DEFAULT_SPLIT_BYTES,
    )
    writer.commit([s.message for s in staged])
    raw = read_spark(spark, table, [MONTH])
    assert statistics_of(staged) == spark_statistics(raw)
    return raw


def statistics_of(staged) -> dict[tuple, tuple[int, int, int]]:
    totals: dict[tuple, tuple[int, int, int]] = {}
    for group in (g for s in staged for g in s.groups):
        key = (group["month"], group["_source_file"], group["_defect"])
        old = totals.get(key, (0, 0, 0))
        totals[key] = (
            old[0] + group["rows"],
            old[1] + group["outside_month"],
            old[2] + group["lossy"],
        )
    return totals


def spark_statistics(raw) -> dict[tuple, tuple[int, int, int]]:
    from pyspark.sql import functions as F

    outside = F.coalesce(F.date_format("event_time", "yyyy-MM") != F.col("month"), F.lit(False))
    rows = (
        raw.groupBy("month", "_source_file", "_defect")
        .agg(
            F.count("*").alias("rows"),
            F.sum(outside.cast("long")).alias("outside"),
            F.sum(F.col(WARNING_COLUMN).isNotNull().cast("long")).alias("lossy"),
        )
        .collect()
    )
    return {
        (r["month"], r["_source_file"], r["_defect"]): (r["rows"], r["outside"], r["lossy"])
        for r in rows
    }


def classify_each(spark, tmp_path_factory, exports: dict[str, bytes], name: str) -> dict:
    """Each export alone in a month folder of its own (as ``name``), read and classified."""
    return {
        key: classify_landing(spark, write_month(tmp_path_factory.mktemp(key), name, data))
        for key, data in exports.items()
    }


def classify_landing(spark, landing: Path, split_bytes: int | None = None) -> Outcome:
    """Store the month's exports as raw_events does, and apply the cleaning rules to them."""
    classified = classify_events(read_month(spark, landing, split_bytes))
    columns = [*KEY_COLUMNS, "category_id", "drop_reason", WARNING_COLUMN]
    rows = classified.select(*columns).collect()
    outcome = Outcome()
    for row in rows:
        warning = row[WARNING_COLUMN]
        if row["drop_reason"] is None:
            outcome.kept[tuple(row[c] for c in KEY_COLUMNS)] += 1
            if warning:
                outcome.kept_warnings[warning] += 1
            outcome.kept_without_category += row["category_id"] is None
        else:
            outcome.dropped[row["drop_reason"]] += 1
        if warning:
            outcome.warnings[warning] += 1
    return outcome

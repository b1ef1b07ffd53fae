"""Every physical line of an export is one row: kept, or quarantined with its text (issue 24, 6).

A line ends at LF, CRLF or a lone CR. A quoted field may not span a line end: a line whose
quote is left open (a brand ``"apple``) is one ``unclosed_quote`` row, and the next line is
read afresh. So no quoting, cut or line ending can merge lines, lose one, or fail the read.

The property tests generate exports with random quoting (fields quoted or not, commas and
doubled quotes inside quoted fields, stray and literal quotes), line endings mixed per line,
empty lines, a byte-order mark, long fields (some above the row limit), rows with a field too
few or too many, and a cut at a random byte of the last line. Each data line carries a unique
product id (``1000000 + i``, no other field holds digits), so a row's ids tell which lines it
came from: every output row holds at most one id (never merged), no id comes out twice, every
id written whole comes out (never lost), and there are exactly as many rows as non-empty lines.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from dataclasses import dataclass

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from amazing_assets.defs.ingestion.landing import LandingFile, list_month_files
from amazing_assets.defs.ingestion.landing_source import (
    plan_splits,
    read_split,
    register_landing_source,
)
from amazing_assets.lib.schema import EVENT_COLUMNS
from amazing_assets.lib.storage import LOCATION_OPTION, Location

HEADER = ",".join(EVENT_COLUMNS)
FIRST_ID = 1_000_000
ID_PATTERN = re.compile(r"(?<!\d)1\d{6}(?!\d)")
LINE_END = re.compile(r"\r\n|\r|\n")
# Text of the free fields: no digits (ids are the only 7-digit runs) and no lower-case letters
# (no field can spell a column name, so no line looks like a header).
TEXT = st.text(alphabet='ABC XYZ,;"\t', min_size=0, max_size=12)
EXAMPLES_RUN: Counter[str] = Counter()
# A failing export is printed whole; shrinking it took minutes on two shared cores.
NO_SHRINKING = (Phase.explicit, Phase.reuse, Phase.generate)


def good_fields(i: int) -> list[str]:
    return [
        f"2019-10-01 00:{i // 60 % 60:02d}:{i % 60:02d} UTC",
        "view",
        str(FIRST_ID + i),
        "2053013552326770905",
        "",
        "ACME",
        "1.50",
        str(541312100 + i % 97),
        "SESSION",
    ]


@st.composite
def field_text(draw) -> str:
    """One free field as some CSV writer (or a broken one) would write it."""
    kind = draw(st.sampled_from(["plain", "quoted", "stray", "literal", "long"]))
    text = draw(TEXT)
    if kind == "plain":
        return text.replace('"', "").replace(",", "")
    if kind == "quoted":  # what csv.writer writes: commas kept, quotes doubled
        return '"' + text.replace('"', '""') + '"'
    if kind == "stray":  # an opening quote that never closes on the line
        return '"' + text.replace('"', "").replace(",", "")
    if kind == "literal":  # a quote inside an unquoted field ("12\" TV")
        return "TV" + '"' + text.replace(",", "")
    return "L" * draw(st.sampled_from([200, 3_000, 70_000]))


@st.composite
def export_bytes(draw, max_lines: int = 40) -> tuple[bytes, int]:
    """An export and how many data lines it was written with."""
    n = draw(st.integers(min_value=0, max_value=max_lines))
    ends = ["\n", "\r\n", "\r"]
    crlf_file = draw(st.booleans())
    out = ["\ufeff" if draw(st.booleans()) else "", HEADER, "\r\n" if crlf_file else "\n"]
    for i in range(n):
        fields = good_fields(i)
        for column in ("category_code", "brand", "user_session"):
            if draw(st.integers(0, 3)) == 0:
                fields[EVENT_COLUMNS.index(column)] = draw(field_text())
        if draw(st.integers(0, 9)) == 0:  # quote a value that needs no quoting
            fields[1] = '"view"'
        shape = draw(st.integers(0, 11))
        if shape == 0:
            fields = fields[:-1]
        elif shape == 1:
            fields = [*fields, "EXTRA"]
        out.append(",".join(fields))
        mixed = draw(st.integers(0, 4)) == 0
        out.append(draw(st.sampled_from(ends)) if mixed else ("\r\n" if crlf_file else "\n"))
        if draw(st.integers(0, 9)) == 0:
            out.append(draw(st.sampled_from(ends)))  # an empty line
    data = "".join(out).encode()
    header_end = data.index(b"\n") + 1
    if n and draw(st.booleans()):  # cut inside the last line (an upload cut off mid-row)
        last_start = len(data) - len(out[-2].encode()) - len(out[-1].encode())
        cut = draw(st.integers(min_value=max(header_end, last_start), max_value=len(data)))
        data = data[:cut]
    return data, n


@dataclass(frozen=True)
class Expected:
    lines: int  # non-empty physical lines after the header
    whole_ids: frozenset[int]  # ids written whole (followed by the field separator)


def expected(data: bytes) -> Expected:
    text = data.decode("utf-8")
    lines = [line for line in LINE_END.split(text)[1:] if line]
    ids = {int(m.group(0)) for m in re.finditer(r"(?<=,)(1\d{6})(?=,)", text)}
    return Expected(lines=len(lines), whole_ids=frozenset(ids))


def row_ids(rows: list[dict]) -> list[list[int]]:
    """The ids each output row holds: its product id, or those found in its kept text."""
    out = []
    for row in rows:
        if row["product_id"] is not None and row["_raw_line"] is None:
            out.append([row["product_id"]])
        else:
            out.append([int(x) for x in ID_PATTERN.findall(row["_raw_line"] or "")])
    return out


def assert_each_line_is_one_row(data: bytes, batches: list[pa.RecordBatch]) -> None:
    assert_each_line_is_one_of(data, [r for b in batches for r in b.to_pylist()])


def assert_each_line_is_one_of(data: bytes, rows: list[dict]) -> None:
    want = expected(data)
    ids = row_ids(rows)
    assert len(rows) == want.lines, "rows != non-empty lines"
    merged = [r for r in ids if len(r) > 1]
    assert not merged, f"rows merging lines: {merged[:3]}"
    found = Counter(i for r in ids for i in r)
    assert not [i for i, c in found.items() if c > 1], "a line came out twice"
    assert want.whole_ids <= set(found), f"lost lines: {sorted(want.whole_ids - set(found))[:5]}"


def landing_file(tmp_path, data: bytes, month: str = "2019-10") -> tuple[Location, LandingFile]:
    folder = tmp_path / month
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "events.csv").write_bytes(data)
    landing = Location.parse(str(tmp_path))
    [export] = list_month_files(landing, month)
    return landing, export


def read_all(landing: Location, export: LandingFile, split_bytes: int) -> list[pa.RecordBatch]:
    fs = landing.filesystem()
    return [b for s in plan_splits([export], split_bytes) for b in read_split(fs, s)]


def stray_quote_export(rows_after: int) -> bytes:
    lines = [HEADER]
    for i in range(rows_after + 1):
        fields = good_fields(i)
        if i == 0:
            fields[EVENT_COLUMNS.index("brand")] = '"apple'
        lines.append(",".join(fields))
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("rows_after", [100, 6_000])
def test_a_stray_quote_is_one_defect_row_and_the_next_lines_are_read(tmp_path, rows_after):
    """Before: the 100 lines after ``"apple`` came out as ONE wrong_field_count row; with 6,000
    after it, ``_csv.Error: field larger than field limit`` escaped read_split."""
    data = stray_quote_export(rows_after)
    landing, export = landing_file(tmp_path, data)
    batches = read_all(landing, export, 128 * 2**20)
    defects = Counter(d for b in batches for d in b.column("_defect").to_pylist())
    assert defects == {None: rows_after, "unclosed_quote": 1}
    [raw] = [x for b in batches for x in b.column("_raw_line").to_pylist() if x]
    assert raw.endswith("SESSION") and "\n" not in raw  # the one line, whole
    assert_each_line_is_one_row(data, batches)


def test_quoted_fields_with_commas_and_doubled_quotes_are_kept():
    """What csv.writer / pandas write (QUOTE_ALL, commas and quotes inside fields) stays legal."""
    from amazing_assets.defs.ingestion.landing_source import parse_export

    fields = good_fields(0)
    fields[EVENT_COLUMNS.index("brand")] = '"A, ""B"" C"'
    line = ",".join(f if f.startswith('"') else f'"{f}"' for f in fields)
    data = (HEADER + "\r\n" + line + "\r\n").encode()
    [batch] = list(parse_export(io.BytesIO(data), export_file(data)))
    [row] = batch.to_pylist()
    assert row["_defect"] is None and row["brand"] == 'A, "B" C' and row["product_id"] == FIRST_ID


def export_file(data: bytes) -> LandingFile:
    return LandingFile(
        path="",
        name="2019-10/events.csv",
        size=len(data),
        mtime_ns=0,
        compression=None,
        columns=EVENT_COLUMNS,
    )


@settings(
    max_examples=300,
    deadline=None,
    phases=NO_SHRINKING,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(export_bytes())
def test_property_every_line_is_one_row_pure_parser(export):
    """The parser on an in-memory stream, with a small row limit so long fields cross it."""
    from amazing_assets.defs.ingestion.landing_source import parse_export

    data, _ = export
    EXAMPLES_RUN["pure"] += 1
    batches = list(parse_export(io.BytesIO(data), export_file(data), max_row_bytes=4_096))
    assert_each_line_is_one_row(data, batches)


@settings(
    max_examples=60,
    deadline=None,
    phases=NO_SHRINKING,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(export=export_bytes(), parts=st.integers(min_value=1, max_value=60))
def test_property_every_line_is_one_row_in_byte_range_splits(tmp_path_factory, export, parts):
    """The same through files on disk, listing and ``read_split`` over random byte ranges (no
    split boundary may depend on the quoting of an earlier range)."""
    data, _ = export
    EXAMPLES_RUN["splits"] += 1
    landing, landing_export = landing_file(tmp_path_factory.mktemp("landing"), data)
    split = max(1, len(data) // parts)  # ranges cut lines anywhere, even inside the header
    assert_each_line_is_one_row(data, read_all(landing, landing_export, split))


@pytest.mark.spark
@settings(
    max_examples=12,
    deadline=None,
    phases=NO_SHRINKING,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(export=export_bytes(max_lines=25), parts=st.integers(min_value=1, max_value=8))
def test_property_every_line_is_one_row_through_the_spark_data_source(
    spark, tmp_path_factory, export, parts
):
    """The same through ``spark.read.format("amazing_landing")`` (fewer examples: a Spark
    job each)."""
    data, _ = export
    EXAMPLES_RUN["spark"] += 1
    register_landing_source(spark)  # ingestion registers it where it reads; alone, so does this
    landing, landing_export = landing_file(tmp_path_factory.mktemp("landing"), data)
    rows = (
        spark.read.format("amazing_landing")
        .option(LOCATION_OPTION, landing.to_option())
        .option("files", json.dumps([landing_export.to_dict()]))
        .option("split_bytes", str(max(1, len(data) // parts)))
        .load()
        .select("product_id", "_raw_line")
        .collect()
    )
    assert_each_line_is_one_of(data, [r.asDict() for r in rows])


def test_zz_report_examples_run():
    """Prints how many generated exports the property tests above checked (see the report)."""
    print(f"\nhypothesis examples run: {dict(EXAMPLES_RUN)}")

"""Reading exports: byte-range splits, headers, the real excerpts and their defects."""

import gzip
import json
import random
import shutil

import pyarrow.fs as pafs
import pytest

from amazing_assets.defs.ingestion.landing import LandingFormatError, list_month_files
from amazing_assets.defs.ingestion.landing_source import _LineAlignedRange, register_landing_source
from amazing_assets.lib.storage import LOCATION_OPTION, Location
from amazing_assets_tests.conftest import REAL_17K, REAL_BOM, real_file


@pytest.mark.parametrize("split", [1, 2, 7, 64, 333, 4096])
def test_line_aligned_ranges_cover_every_line_exactly_once(tmp_path, split):
    rng = random.Random(split)
    data = b"".join(b"x" * rng.randint(0, 40) + str(i).encode() + b"\n" for i in range(800))
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    fs = pafs.LocalFileSystem()
    starts = list(range(0, len(data), split))
    pieces = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else None
        with _LineAlignedRange(fs.open_input_file(str(path)), start, end) as part:
            pieces.append(part.read())
    assert b"".join(pieces) == data


def read(spark, landing, month="2019-10", split_bytes=None):
    files = list_month_files(landing, month)
    register_landing_source(spark)
    reader = (
        spark.read.format("amazing_landing")
        .option(LOCATION_OPTION, landing.to_option())
        .option("files", json.dumps([f.to_dict() for f in files]))
    )
    if split_bytes:
        reader = reader.option("split_bytes", str(split_bytes))
    return reader.load()


def test_real_excerpt_reads_every_line_and_keeps_the_cut_off_one(spark, landing_with_real_october):
    landing = Location.parse(str(landing_with_real_october))
    data_lines = (
        real_file(REAL_17K).read_bytes().count(b"\n")
    )  # header + complete lines; last has no newline
    df = read(spark, landing, split_bytes=300_000)  # ~8 splits of the 2.3 MB file
    assert df.count() == data_lines  # (lines - header) + the cut-off last line
    defects = {r["_defect"]: r["count"] for r in df.groupBy("_defect").count().collect()}
    assert defects == {None: data_lines - 1, "wrong_field_count": 1}
    cut = df.where("_defect is not null").first()
    assert cut["_raw_line"].endswith(",25.71,52040330")
    assert cut["_source_file"] == f"2019-10/{REAL_17K.name}"


def test_split_and_unsplit_reads_agree(spark, landing_with_real_october):
    landing = Location.parse(str(landing_with_real_october))
    whole = read(spark, landing).drop("_source_file")
    split = read(spark, landing, split_bytes=100_000).drop("_source_file")
    assert whole.exceptAll(split).count() == 0 and split.exceptAll(whole).count() == 0


def test_a_narrow_read_parses_every_row_but_ships_only_its_columns(
    spark, landing_with_real_october
):
    landing = Location.parse(str(landing_with_real_october))
    files = list_month_files(landing, "2019-10")
    register_landing_source(spark)
    narrow = (
        spark.read.format("amazing_landing")
        .option(LOCATION_OPTION, landing.to_option())
        .option("files", json.dumps([f.to_dict() for f in files]))
        .option("columns", "_defect,event_time")
        .load()
    )
    assert narrow.columns == ["event_time", "_defect"]  # table order, not option order
    whole = read(spark, landing).select("event_time", "_defect")
    assert whole.exceptAll(narrow).count() == 0 and narrow.exceptAll(whole).count() == 0


def test_bom_and_trailing_zero_less_prices_are_accepted(spark, tmp_path):
    (tmp_path / "2019-10").mkdir()
    shutil.copy(real_file(REAL_BOM), tmp_path / "2019-10" / REAL_BOM.name)
    landing = Location.parse(str(tmp_path))
    rows = read(spark, landing).collect()
    assert len(rows) == REAL_BOM.read_bytes().count(b"\n") - 1 + (
        not REAL_BOM.read_bytes().endswith(b"\n")
    )
    assert all(r["_defect"] is None for r in rows)
    assert 33.2 in {r["price"] for r in rows}


def test_gzip_exports_read_like_plain_ones(spark, tmp_path, landing_with_real_october):
    (tmp_path / "gz" / "2019-10").mkdir(parents=True)
    with gzip.open(tmp_path / "gz" / "2019-10" / "events.csv.gz", "wb") as out:
        out.write(real_file(REAL_17K).read_bytes())
    plain = read(spark, Location.parse(str(landing_with_real_october))).drop("_source_file")
    zipped = read(spark, Location.parse(str(tmp_path / "gz"))).drop("_source_file")
    assert plain.exceptAll(zipped).count() == 0 and zipped.count() == plain.count()


def test_missing_column_fails_naming_file_and_column(tmp_path):
    (tmp_path / "2019-10").mkdir()
    (tmp_path / "2019-10" / "x.csv").write_text(
        "event_time,event_type,product_id\n2019-10-01 00:00:00 UTC,view,1\n"
    )
    with pytest.raises(LandingFormatError, match=r"2019-10/x.csv.*'category_id'"):
        list_month_files(Location.parse(str(tmp_path)), "2019-10")


ROWS_IN_SPLIT_TEST = 14  # ~1.9 KB: every split size from 1 byte to the whole file, in seconds


def test_every_split_size_reads_every_row_once(tmp_path):
    """Before: a range starting inside the file's last line (or inside a line longer than the
    range) was an empty stream, and the CSV reader failed with "Empty CSV file" (532 of 5,412
    split sizes on a 5.6 KB file)."""
    from amazing_assets.defs.ingestion.landing_source import plan_splits, read_split
    from amazing_assets.lib.schema import EVENT_COLUMNS

    header = ",".join(EVENT_COLUMNS)
    rows = [
        f"2019-10-01 00:00:{i:02d} UTC,view,{1000 + i},2053,{'x' * (i % 7)},acme,1.5,"
        f"{541312100 + i},s-{i}"
        for i in range(ROWS_IN_SPLIT_TEST)
    ]
    for ending in ("\n", ""):  # with and without a newline after the last row
        month = tmp_path / ending.encode().hex() / "2019-10"
        month.mkdir(parents=True)
        (month / "events.csv").write_text("\n".join([header, *rows]) + ending)
        landing = Location.parse(str(month.parent))
        [export] = list_month_files(landing, "2019-10")
        fs = landing.filesystem()
        for split_bytes in range(1, export.size + 2):
            read = [
                value
                for split in plan_splits([export], split_bytes)
                for batch in read_split(fs, split)
                for value in batch.column("product_id").to_pylist()
            ]
            assert read == [1000 + i for i in range(ROWS_IN_SPLIT_TEST)], (
                repr(ending),
                split_bytes,
            )


@pytest.mark.parametrize("seed", range(12))
def test_bounded_lines_drop_exactly_the_overlong_lines_wherever_chunks_cut(seed):
    """Lines over the limit come out set aside, every other line intact and in order, for chunk
    sizes that cut lines anywhere (including lines longer than a chunk)."""
    import io

    from amazing_assets.defs.ingestion.bounded_lines import KEPT_PREFIX_BYTES, BoundedLines

    rng = random.Random(seed)
    limit = rng.choice([5, 17, 64])
    lengths = [
        rng.choice([0, 1, limit - 1, limit, limit + 1, 3 * limit, rng.randrange(200)])
        for _ in range(rng.randrange(1, 60))
    ]
    lines = [bytes(rng.choice(b"abc,; ") for _ in range(n)) for n in lengths]
    ending = rng.choice([b"\n", b""])
    data = b"\n".join(lines) + ending
    stream = BoundedLines(io.BytesIO(data), name="x.csv", max_row_bytes=limit)
    stream.CHUNK = rng.choice([1, 3, limit, 2 * limit + 1, 1000])
    out = stream.read()
    kept = [line for line in lines if len(line) <= limit]
    expected = b"\n".join(kept)  # newline placement at the very end aside
    assert out.rstrip(b"\n").split(b"\n") == expected.rstrip(b"\n").split(b"\n"), (seed, limit)
    assert stream.drain_overlong() == [
        line[:KEPT_PREFIX_BYTES].decode() for line in lines if len(line) > limit
    ]


def test_a_50_mb_field_is_quarantined_and_the_rest_of_the_file_read(tmp_path):
    """Before: the line did not fit in a parser block and the file failed ("straddling object
    straddles two block boundaries"), so the month was rejected."""
    from amazing_assets.defs.ingestion.landing_source import plan_splits, read_split
    from amazing_assets.lib.schema import DEFECT_ROW_TOO_LONG, EVENT_COLUMNS

    rows = [
        f"2019-10-01 00:00:{i:02d} UTC,view,{1000 + i},2053,,acme,1.5,{541312100 + i},s-{i}"
        for i in range(30)
    ]
    rows[10] = rows[10].replace(",acme,", ',"' + "z" * 50_000_000 + '",')
    month = tmp_path / "2019-10"
    month.mkdir()
    (month / "events.csv").write_text("\n".join([",".join(EVENT_COLUMNS), *rows]) + "\n")
    landing = Location.parse(str(tmp_path))
    [export] = list_month_files(landing, "2019-10")
    batches = [
        b for s in plan_splits([export], 128 * 2**20) for b in read_split(landing.filesystem(), s)
    ]
    defects = [d for b in batches for d in b.column("_defect").to_pylist()]
    products = [p for b in batches for p in b.column("product_id").to_pylist() if p is not None]
    assert products == [1000 + i for i in range(30) if i != 10]
    assert defects.count(DEFECT_ROW_TOO_LONG) == 1 and len(defects) == 30
    [line] = [x for b in batches for x in b.column("_raw_line").to_pylist() if x]
    assert line.startswith("2019-10-01 00:00:10 UTC,view,1010") and len(line) == 1024


def test_a_gzip_bomb_stops_with_a_message(tmp_path, monkeypatch):
    """Before: a .gz had no cap on its decompressed size (a few KB could fill the disk)."""
    from amazing_assets.defs.ingestion import bounded_lines
    from amazing_assets.defs.ingestion.landing_source import (
        LandingReadError,
        plan_splits,
        read_split,
    )
    from amazing_assets.lib.schema import EVENT_COLUMNS

    monkeypatch.setattr(bounded_lines, "RATIO_CHECK_AFTER_BYTES", 2**20)  # 1 MiB, not 1 GiB
    row = "2019-10-01 00:00:01 UTC,view,1000,2053,,acme,1.5,541312100,s-1\n"
    month = tmp_path / "2019-10"
    month.mkdir()
    with gzip.open(month / "events.csv.gz", "wb") as out:
        out.write((",".join(EVENT_COLUMNS) + "\n").encode())
        out.write(row.encode() * 400_000)  # ~26 MB of one repeated line: ratio far above 100
    landing = Location.parse(str(tmp_path))
    [export] = list_month_files(landing, "2019-10")
    assert export.size < 200_000
    [split] = plan_splits([export], 128 * 2**20)
    with pytest.raises(LandingReadError, match=r"events.csv.gz decompresses to more than .*ratio"):
        list(read_split(landing.filesystem(), split))

"""Bad input: every malformed export is accepted with exact counts or rejected with a message
that names the file and what to do. Each case is a tiny export written by the test.

Outcomes (the closing note of the data-quality issue lists the same table):

| case | outcome |
|---|---|
| missing or renamed required column | rejected: names file and column |
| leading unnamed index column | accepted: extra column ignored |
| no header row | rejected: "line 1 is a data row" |
| semicolon / tab delimiter | rejected: names the delimiter |
| non-UTF-8 bytes in a row | rejected: "not UTF-8", suggests iconv |
| UTF-8 byte-order mark | accepted |
| empty file | rejected: "empty" |
| header-only file | rejected: "no data rows" |
| truncated .gz | rejected: "truncated or corrupt gzip" |
| ids written as floats (5802432.0) | accepted, normalised |
| ids in scientific notation (1.48758E+18) | rows quarantined: unparseable_user_id |
| ISO-8601 UTC timestamps | accepted |
| day-first timestamps for a whole file | month blocked: defective_share check fails |
| a file whose rows belong to another month | rejected: "wrong month folder" |
| two different files for one month | accepted: both ingested |
| the same file dropped twice | rejected: "is a copy of" |
| negative and absurd prices | rows quarantined: negative_price / absurd_price |
| a rejected month | previous version of the month stays readable |
"""

import gzip
import re
from pathlib import Path

import dagster as dg
import pytest

from amazing_assets.defs.cleaning.assets import clean_events
from amazing_assets.defs.ingestion.assets import raw_events
from amazing_assets.lib.delta_tables import month_row_counts, read_months, table_exists
from amazing_assets.lib.settings import load_settings
from amazing_assets.lib.storage import Location
from amazing_assets.lib.tables import table_location
from amazing_assets.resources import build_resources
from amazing_assets_tests.conftest import REAL_BOM, real_file

pytestmark = pytest.mark.slow
HEADER = (
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session"
)


def row(i: int, *, time: str | None = None, user: str | None = None, price: str = "10.00") -> str:
    time = time or f"2019-10-01 00:{i // 60 % 60:02d}:{i % 60:02d} UTC"
    user = user or str(510000000 + i % 7)
    kind = "purchase" if i % 10 == 0 else "view"
    product = f"{1000 + i},2053013552326770905,electronics.smartphone,acme"
    return f"{time},{kind},{product},{price},{user},s{i % 7}"


def export(rows: list[str], header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


ROWS = [row(i) for i in range(40)]


class Run:
    def __init__(self, tmp_path: Path, spark) -> None:
        self.tmp, self.landing = tmp_path, tmp_path / "landing"
        self.settings = load_settings(
            {
                "AMAZING_HOME": str(tmp_path / "home"),
                "AMAZING_LANDING": str(self.landing),
                "AMAZING_WAREHOUSE": str(tmp_path / "warehouse"),
            }
        )

    def drop(self, name: str, data: bytes, month: str = "2019-10") -> None:
        folder = self.landing / month
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)

    def materialize(self) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [raw_events, clean_events],
            partition_key="2019-10-01",
            resources=build_resources(self.settings),
            raise_on_error=False,
        )

    def table(self, name: str) -> Location:
        return table_location(Location.parse(str(self.tmp / "warehouse")), name)

    def reasons(self) -> dict[str, int]:
        table = read_months(self.table("event_quarantine"), ["2019-10"], columns=["reason"])
        out: dict[str, int] = {}
        for reason in table.column("reason").to_pylist():
            out[reason] = out.get(reason, 0) + 1
        return out


@pytest.fixture
def run(tmp_path, spark) -> Run:
    return Run(tmp_path, spark)


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures, "expected the run to fail"
    error = failures[0].event_specific_data.error
    return f"{error.message} {error.cause.message if error.cause else ''}"


def assert_rejected(run: Run, pattern: str) -> str:
    result = run.materialize()
    assert not result.success
    message = failure_message(result)
    assert re.search(pattern, message), message
    return message


def assert_accepted(run: Run, rows: int, defects: dict[str, int] | None = None) -> None:
    result = run.materialize()
    assert result.success, failure_message(result)
    assert month_row_counts(run.table("raw_events")) == {"2019-10": rows}
    reasons = {k: v for k, v in run.reasons().items() if k not in ("exact_duplicate", "cart_burst")}
    assert reasons == (defects or {})
    kept = month_row_counts(run.table("clean_events")).get("2019-10", 0)
    assert kept + sum(run.reasons().values()) == rows  # accounting identity


@pytest.mark.parametrize(
    ("header", "column"),
    [(HEADER.replace(",price", ""), "price"), (HEADER.replace("user_id", "userid"), "user_id")],
    ids=["missing", "renamed"],
)
def test_missing_or_renamed_column_is_rejected_naming_it(run, header, column):
    rows = [",".join(r.split(",")[:6] + r.split(",")[7:]) if column == "price" else r for r in ROWS]
    run.drop("events.csv", export(rows, header))
    assert_rejected(
        run, rf"2019-10/events.csv: header line 1 lacks required column\(s\) \['{column}'\]"
    )


def test_leading_unnamed_index_column_is_ignored(run):
    run.drop("events.csv", export([f"{i},{r}" for i, r in enumerate(ROWS)], "," + HEADER))
    assert_accepted(run, len(ROWS))


def test_missing_header_is_rejected(run):
    run.drop("events.csv", ("\n".join(ROWS) + "\n").encode())
    assert_rejected(run, r"2019-10/events.csv: line 1 is a data row, not a header")


@pytest.mark.parametrize(("sep", "label"), [(";", "semicolon"), ("\t", "tab")])
def test_other_delimiters_are_rejected_naming_them(run, sep, label):
    run.drop("events.csv", export([r.replace(",", sep) for r in ROWS], HEADER.replace(",", sep)))
    assert_rejected(run, rf"separated by {label}s, not commas")


def test_non_utf8_rows_are_rejected(run):
    data = export(ROWS).replace(b"acme", "café".encode("latin-1"), 1)
    run.drop("events.csv", data)
    assert_rejected(run, r"2019-10/events.csv is not UTF-8.*iconv")


def test_byte_order_mark_is_accepted(run):
    data = real_file(REAL_BOM).read_bytes()
    run.drop("events.csv", data)
    assert_accepted(run, data.count(b"\n") - 1 + (not data.endswith(b"\n")))


def test_empty_file_is_rejected(run):
    run.drop("events.csv", b"")
    assert_rejected(run, r"2019-10/events.csv: the file is empty")


def test_header_only_month_is_rejected(run):
    run.drop("events.csv", export([]))
    assert_rejected(run, r"hold no data rows")


def test_truncated_gzip_is_rejected(run):
    many = [row(i) for i in range(30_000)]
    data = gzip.compress(export(many))
    run.drop("events.csv.gz", data[: len(data) * 2 // 3])
    assert_rejected(run, r"2019-10/events.csv.gz is a truncated or corrupt gzip file")


def test_ids_written_as_floats_are_normalised(run):
    run.drop("events.csv", export([row(i, user=f"{510000000 + i}.0") for i in range(10)]))
    assert_accepted(run, 10)
    users = read_months(run.table("raw_events"), ["2019-10"], columns=["user_id"]).column("user_id")
    assert sorted(users.to_pylist()) == [510000000 + i for i in range(10)]


def test_ids_in_scientific_notation_are_quarantined(run):
    rows = [*ROWS, *[row(100 + i, user="5.10000E+08") for i in range(2)]]
    run.drop("events.csv", export(rows))
    assert_accepted(run, len(rows), {"unparseable_user_id": 2})


def test_iso_timestamps_in_utc_are_accepted(run):
    run.drop("events.csv", export([row(i, time=f"2019-10-02T10:00:{i:02d}Z") for i in range(20)]))
    assert_accepted(run, 20)


def test_a_file_of_day_first_timestamps_is_rejected_before_it_is_stored(run):
    run.drop("events.csv", export([row(i, time=f"02/10/2019 10:00:{i:02d}") for i in range(20)]))
    message = assert_rejected(
        run, r"month 2019-10 rejected: 20 of 20 rows \(100.0%\) cannot be parsed"
    )
    assert "unparseable_event_time 20" in message and "What to do" in message
    assert not table_exists(run.table("raw_events"))  # nothing of the month was stored
    rejected = read_months(run.table("rejected_events"), ["2019-10"])
    assert rejected.num_rows == 20


def test_a_file_of_another_month_is_rejected(run):
    run.drop(
        "events.csv", export([row(i, time=f"2019-11-03 10:00:{i:02d} UTC") for i in range(20)])
    )
    assert_rejected(
        run, r"2019-10/events.csv: 20 of 20 rows are dated outside 2019-10.*wrong month folder"
    )


def test_two_files_for_a_month_are_both_ingested(run):
    run.drop("part-1.csv", export(ROWS[:25]))
    run.drop("part-2.csv", export(ROWS[25:]))
    assert_accepted(run, len(ROWS))
    sources = read_months(run.table("raw_events"), ["2019-10"], columns=["_source_file"]).column(
        "_source_file"
    )
    assert set(sources.to_pylist()) == {"2019-10/part-1.csv", "2019-10/part-2.csv"}


def test_the_same_file_twice_is_rejected(run):
    run.drop("events.csv", export(ROWS))
    run.drop("events (copy).csv", export(ROWS))
    assert_rejected(run, r"is a copy of")


def test_negative_and_absurd_prices_are_quarantined(run):
    rows = [*ROWS, row(200, price="-3.00"), row(201, price="999999.99")]
    run.drop("events.csv", export(rows))
    assert_accepted(run, len(rows), {"negative_price": 1, "absurd_price": 1})


def test_a_rejected_month_keeps_the_previous_good_version(run):
    run.drop("events.csv", export(ROWS))
    assert run.materialize().success
    before = month_row_counts(run.table("raw_events"))
    (run.landing / "2019-10" / "events.csv").write_bytes(
        export([r.replace(",", ";") for r in ROWS], HEADER.replace(",", ";"))
    )
    assert not run.materialize().success
    assert month_row_counts(run.table("raw_events")) == before
    assert month_row_counts(run.table("clean_events")) == {
        "2019-10": before["2019-10"] - sum(run.reasons().values())
    }


def test_a_rejected_month_leaves_no_staged_file_behind(run):
    """raw_events' tasks write the month's files before the month is judged: a month failed by
    a parse error in one of its files (the other file's task wrote its rows) or by a quality
    gate leaves the table's data files exactly as they were."""
    run.drop("events.csv", export(ROWS))
    assert run.materialize().success
    table = Path(run.table("raw_events").path)
    live = sorted(table.rglob("*.parquet"))
    before = month_row_counts(run.table("raw_events"))

    run.drop("more.csv", export([row(100 + i) for i in range(20)]))
    run.drop("broken.csv", export(ROWS[:5]).replace(b"acme", "café".encode("latin-1"), 1))
    assert_rejected(run, r"2019-10/broken.csv is not UTF-8")
    assert sorted(table.rglob("*.parquet")) == live

    (run.landing / "2019-10" / "broken.csv").write_bytes(
        export([row(200 + i, time=f"02/10/2019 10:00:{i:02d}") for i in range(40)])
    )
    assert_rejected(run, r"rows \(.*\) cannot be parsed")
    assert sorted(table.rglob("*.parquet")) == live
    assert month_row_counts(run.table("raw_events")) == before

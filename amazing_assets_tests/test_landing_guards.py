"""Landing guards of issue 24: no data in messages (3), listing checks that hold at reading (8),
month folders that never wait silently (9), headers of any width (10)."""

from __future__ import annotations

import os

import pytest

from amazing_assets.defs.ingestion.landing import LandingFormatError, list_month_files
from amazing_assets.defs.ingestion.landing_source import LandingReadError, plan_splits, read_split
from amazing_assets.defs.ingestion.sensors import landing_listing
from amazing_assets.lib.schema import EVENT_COLUMNS
from amazing_assets.lib.storage import Location

HEADER = ",".join(EVENT_COLUMNS)
USER, SESSION = "541312140", "72d76fde-8bb3-4e00-8c23-a032dfed738c"


def event(i: int, user: str = USER) -> str:
    return f"2019-10-01 00:00:{i % 60:02d} UTC,view,{1000 + i},2053,,acme,1.5,{user},{SESSION}"


def drop(tmp_path, text: str | bytes, name: str = "events.csv", month: str = "2019-10"):
    folder = tmp_path / month
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(text if isinstance(text, bytes) else text.encode())
    return Location.parse(str(tmp_path))


def read(landing: Location, month: str = "2019-10") -> list[dict]:
    files = list_month_files(landing, month)
    fs = landing.filesystem()
    return [r for s in plan_splits(files, 2**27) for b in read_split(fs, s) for r in b.to_pylist()]


def assert_no_data(message: str) -> None:
    assert USER not in message and SESSION not in message, message


# Finding 3: data never reaches a message.


def test_a_header_less_export_is_refused_without_quoting_its_first_line(tmp_path):
    """Before: "found ['01/10/2019 00:00:00', 'view', ..., '541312140', '72d76fde-…']"."""
    first = f"01/10/2019 00:00:00,view,44600062,2053,,acme,35.79,{USER},{SESSION}"
    landing = drop(tmp_path, "\n".join([first, event(1)]) + "\n")
    with pytest.raises(LandingFormatError) as error:
        list_month_files(landing, "2019-10")
    message = str(error.value)
    assert_no_data(message)
    assert "2019-10/events.csv" in message and "lacks required column(s)" in message
    assert "9 field(s), 0 of them named like a required column" in message


@pytest.mark.parametrize(
    "inside",
    [
        f"event_time,view,44600062,2053,,acme,35.79,{USER},{SESSION}",  # event_time is a name
        f"{HEADER},{USER}",  # every column name, and one more field
    ],
    ids=["header-like-row", "header-plus-field"],
)
def test_a_header_like_line_inside_the_data_is_refused_without_quoting_it(tmp_path, inside):
    """Before: the Spark task's error quoted the line (``_refuse_foreign_header``)."""
    landing = drop(tmp_path, "\n".join([HEADER, event(0), inside, event(2)]) + "\n")
    with pytest.raises(LandingReadError, match="another column layout") as error:
        read(landing)
    assert_no_data(str(error.value))
    assert "2019-10/events.csv" in str(error.value) and "event_time" in str(error.value)


# Finding 10: a wide header is read whole, an absurd one refused by its length.


def test_a_header_wider_than_the_old_probe_is_read_whole(tmp_path):
    """Before: the 64 KiB probe cut the 10,000-column header, so every row had "too many"
    fields and came out as wrong_field_count."""
    extra = [f"extra_column_{i}" for i in range(10_000)]
    header = ",".join([*EVENT_COLUMNS, *extra])
    assert len(header) > 64 * 1024
    rows = [",".join([event(i), *("x" * len(extra))]) for i in range(5)]
    rows_out = read(drop(tmp_path, "\n".join([header, *rows]) + "\n"))
    assert [r["_defect"] for r in rows_out] == [None] * 5
    assert [r["product_id"] for r in rows_out] == [1000 + i for i in range(5)]


def test_a_header_longer_than_the_row_limit_is_refused_saying_so(tmp_path):
    header = ",".join([*EVENT_COLUMNS, *(f"extra_column_{i}" for i in range(80_000))])
    assert len(header) > 2**20
    landing = drop(tmp_path, header + "\n" + event(0) + "\n")
    with pytest.raises(
        LandingFormatError, match=r"header line \(line 1\) is longer than 1,048,576"
    ):
        list_month_files(landing, "2019-10")


# Finding 9: month folder names.


def test_month_folders_with_other_digits_or_spaces_are_reported_with_the_fix(tmp_path):
    """Before: ``\\d`` took Arabic-Indic digits and ``$`` a trailing newline, so these folders
    were months no partition has, and their exports waited silently."""
    for folder in ("2019-10", "\u0662\u0660\u0661\u0669-\u0661\u0660", "2019-11\n", "2019-12 "):
        drop(tmp_path, HEADER + "\n" + event(0) + "\n", month=folder)
    months, ignored = landing_listing(Location.parse(str(tmp_path)))
    assert list(months) == ["2019-10"]
    assert ignored == [
        "2019-11\\n/events.csv (month folder '2019-11\\n' has spaces or a line break around "
        "the month; rename it to 2019-11)",
        "2019-12 /events.csv (month folder '2019-12 ' has spaces or a line break around the "
        "month; rename it to 2019-12)",
        "\\u0662\\u0660\\u0661\\u0669-\\u0661\\u0660/events.csv (month folder "
        "'\\u0662\\u0660\\u0661\\u0669-\\u0661\\u0660' is written with non-ASCII digits; "
        "rename it to 2019-10)",
    ]


# Finding 8: what was checked at listing holds at reading.


def test_an_export_swapped_for_a_link_after_listing_is_not_read(tmp_path):
    """Before: the task opened the path and read the link's target."""
    secret = tmp_path / "secret.csv"
    secret.write_text(HEADER + "\n" + event(7, user="999999999") + "\n")
    landing = drop(tmp_path / "landing", HEADER + "\n" + event(0) + "\n")
    files = list_month_files(landing, "2019-10")
    path = tmp_path / "landing" / "2019-10" / "events.csv"
    path.unlink()
    path.symlink_to(secret)
    with pytest.raises(LandingReadError, match="became a symbolic link") as error:
        [b for s in plan_splits(files, 2**27) for b in read_split(landing.filesystem(), s)]
    assert "999999999" not in str(error.value)


def test_a_linked_month_folder_after_listing_is_not_read(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    landing = drop(tmp_path / "landing", HEADER + "\n" + event(0) + "\n")
    files = list_month_files(landing, "2019-10")
    month = tmp_path / "landing" / "2019-10"
    (month / "events.csv").rename(elsewhere / "events.csv")
    month.rmdir()
    month.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(LandingReadError, match="symbolic link"):
        [b for s in plan_splits(files, 2**27) for b in read_split(landing.filesystem(), s)]


def test_an_export_that_grew_after_listing_is_refused(tmp_path):
    """Before: the rows appended after the listing were read (by the last split only)."""
    landing = drop(tmp_path, HEADER + "\n" + "\n".join(event(i) for i in range(10)) + "\n")
    files = list_month_files(landing, "2019-10")
    with open(tmp_path / "2019-10" / "events.csv", "a") as out:
        out.write(event(10) + "\n")
    with pytest.raises(LandingReadError, match=r"changed since the month was listed"):
        [b for s in plan_splits(files, 2**27) for b in read_split(landing.filesystem(), s)]


def test_an_export_that_grows_while_it_is_read_is_refused(tmp_path):
    """The size is compared again once the range is read: an upload still writing the file
    fails the month instead of leaving its last rows to chance."""
    landing = drop(tmp_path, HEADER + "\n" + "\n".join(event(i) for i in range(10)) + "\n")
    [export] = list_month_files(landing, "2019-10")
    [split] = plan_splits([export], 2**27)
    batches = read_split(landing.filesystem(), split)
    first = next(batches)
    assert first.num_rows == 10
    with open(tmp_path / "2019-10" / "events.csv", "a") as out:
        out.write(event(10) + "\n")
    with pytest.raises(LandingReadError, match=r"changed while it was read \(.*bytes when listed"):
        list(batches)


def test_an_export_rewritten_with_the_same_size_is_refused(tmp_path):
    landing = drop(tmp_path, HEADER + "\n" + event(1) + "\n")
    files = list_month_files(landing, "2019-10")
    path = tmp_path / "2019-10" / "events.csv"
    path.write_text(HEADER + "\n" + event(2) + "\n")
    os.utime(path, ns=(files[0].mtime_ns + 10**9, files[0].mtime_ns + 10**9))
    with pytest.raises(LandingReadError, match="modified since"):
        [b for s in plan_splits(files, 2**27) for b in read_split(landing.filesystem(), s)]


def test_a_rejected_months_example_lines_show_their_shape_not_their_values():
    """Before: only 7+ digit runs and UUIDs were masked, so a short id (``u541312`` in a brand),
    prices and brands reached the run failure and the log stream."""
    from amazing_assets.defs.ingestion.rejected_months import Example, rejection_message

    line = f"01/10/2019 10:00,view,44600062,,,u541312,35.79,{USER},{SESSION}"
    message = rejection_message(
        month="2019-10",
        problem="1 of 1 rows (100.0%) cannot be parsed",
        files={"2019-10/events.csv": (1, 1)},
        codes={"unparseable_event_time": 1},
        examples=[Example("2019-10/events.csv", "unparseable_event_time", line)],
        rows_table="rejected_events",
        threshold_setting="AMAZING_MAX_DEFECTIVE_SHARE",
    )
    example = message.split("example lines")[1].split("The month's tables")[0]
    assert "99/99/9999 99:99,view,99999999,,,a999999,99.99,999999999," in example
    for value in ("541312", "35.79", "44600062", "72d76fde"):
        assert value not in message, value


def test_on_s3_a_listed_export_reads_and_a_replaced_one_is_refused(s3_bucket):
    """The object's size and time from its HEAD match the listing's (to the second), so an
    unchanged object reads; one uploaded again with other content fails the read."""
    landing = Location.parse(f"s3://{s3_bucket}/landing")
    fs = landing.filesystem()

    def upload(text: str) -> None:
        with fs.open_output_stream(f"{landing.path}/2019-10/events.csv") as out:
            out.write(text.encode())

    upload(HEADER + "\n" + "\n".join(event(i) for i in range(5)) + "\n")
    files = list_month_files(landing, "2019-10")
    rows = [r for s in plan_splits(files, 2**27) for b in read_split(fs, s) for r in b.to_pylist()]
    assert [r["product_id"] for r in rows] == [1000 + i for i in range(5)]
    upload(HEADER + "\n" + "\n".join(event(i) for i in range(9)) + "\n")
    with pytest.raises(LandingReadError, match="changed since the month was listed"):
        [b for s in plan_splits(files, 2**27) for b in read_split(fs, s)]

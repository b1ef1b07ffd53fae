"""Typing of export text: values kept, defects marked with the column at fault."""

import pyarrow as pa

from amazing_assets.defs.ingestion.parsing import (
    defective_lines,
    parse_decimal,
    parse_integer,
    type_events,
)
from amazing_assets.lib.schema import EVENT_COLUMNS, PARSED_EVENT_SCHEMA

GOOD = [
    "2019-10-01 00:00:00 UTC",
    "view",
    "44600062",
    "2103807459595387724",
    None,
    "shiseido",
    "35.79",
    "541312140",
    "72d76fde-8bb3-4e00-8c23-a032dfed738c",
]


def text_batch(*rows: list[str | None]) -> pa.Table:
    return pa.table(
        {c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(EVENT_COLUMNS)}
    )


def with_value(column: str, value: str | None) -> list[str | None]:
    row = list(GOOD)
    row[EVENT_COLUMNS.index(column)] = value
    return row


def test_a_well_formed_row_is_typed_without_defect():
    out = type_events(text_batch(GOOD), "2019-10/a.csv")
    assert out.schema == PARSED_EVENT_SCHEMA
    row = out.to_pylist()[0]
    assert row["product_id"] == 44600062
    assert row["category_id"] == 2103807459595387724
    assert row["price"] == 35.79
    assert row["user_id"] == 541312140
    assert row["event_time"].isoformat() == "2019-10-01T00:00:00+00:00"
    assert row["_defect"] is None and row["_raw_line"] is None
    assert row["_source_file"] == "2019-10/a.csv"


def test_ids_exported_as_floats_are_normalised_but_scientific_notation_is_not():
    values = parse_integer(
        pa.array(["5802432.0", "1.48758E+18", "12", None, "99999999999999999999"])
    )
    assert values.to_pylist() == [5802432, None, 12, None, None]


def test_decimals_reject_text_nan_and_infinity():
    assert parse_decimal(pa.array(["33.2", "abc", "nan", "inf", "-1.5"])).to_pylist() == [
        33.2,
        None,
        None,
        None,
        -1.5,
    ]


def test_each_defect_names_the_first_column_at_fault_and_keeps_the_line():
    rows = [
        with_value("event_time", "01/10/2019 00:00"),
        with_value("user_id", None),
        with_value("price", "free"),
        with_value("user_id", "1.48758E+18"),
        GOOD,
    ]
    out = type_events(text_batch(*rows), "f.csv").to_pylist()
    assert [r["_defect"] for r in out] == [
        "unparseable_event_time",
        "missing_user_id",
        "unparseable_price",
        "unparseable_user_id",
        None,
    ]
    assert out[2]["_raw_line"].split(",")[6] == "free"
    assert out[4]["_raw_line"] is None
    assert out[1]["price"] == 35.79  # other values of a defective row stay typed


def test_lines_with_wrong_field_count_become_defect_rows_with_their_text():
    batch = defective_lines(["a,b,c"], "wrong_field_count", "f.csv")
    assert batch.schema == PARSED_EVENT_SCHEMA
    assert batch.to_pylist()[0]["_raw_line"] == "a,b,c"
    assert batch.to_pylist()[0]["user_id"] is None

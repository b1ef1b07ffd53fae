"""Exports that went through pandas (``read_csv`` then ``to_csv``) keep their month.

pandas adds an unnamed index column, writes ids of a column holding NaN as floats
(``541312140.0``) and 19-digit category ids as ``2.1038074595953876e+18`` (digits lost), and NaN
as an empty field. Keys must stay exact or be quarantined; ``category_id`` is an attribute, so
its rows are kept and flagged ``lossy_category_id`` for a warning check.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from amazing_assets.defs.cleaning.classification import classify_events, clean_view, quarantine_view
from amazing_assets.defs.ingestion.parsing import type_events
from amazing_assets.lib.quality import QualityResource
from amazing_assets.lib.schema import (
    EVENT_COLUMNS,
    WARNING_COLUMN,
    WARNING_LOSSY_CATEGORY_ID,
)
from amazing_assets_tests.conftest import REAL_17K, real_file
from amazing_assets_tests.support.export_variants import (
    Export,
    Outcome,
    classify_each,
)
from amazing_assets_tests.support.spark_rows import RAW_SCHEMA, raw_event

# Every BLANK_EVERY-th row loses one id in turn, so pandas reads those columns as float64.
BLANK_EVERY = 400
BLANKED = ("user_id", "product_id", "category_id")
INGESTION_DEFECTS = ("missing_", "unparseable_", "wrong_field_count")


def text_row(**values: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "event_time": "2019-10-01 00:00:00 UTC",
        "event_type": "view",
        "product_id": "44600062",
        "category_id": "2103807459595387724",
        "category_code": None,
        "brand": "shiseido",
        "price": "35.79",
        "user_id": "541312140",
        "user_session": "72d76fde-8bb3-4e00-8c23-a032dfed738c",
    }
    return row | values


def typed(*rows: dict[str, str | None]) -> list[dict]:
    batch = pa.table({c: pa.array([r[c] for r in rows], pa.string()) for c in EVENT_COLUMNS})
    return type_events(batch, "2019-10/f.csv").to_pylist()


def test_a_category_id_that_lost_digits_keeps_its_row_with_a_warning():
    (row,) = typed(text_row(category_id="1.4875800092865987e+18", user_id="562076640.0"))
    assert row["_defect"] is None and row["_raw_line"] is None
    assert row[WARNING_COLUMN] == WARNING_LOSSY_CATEGORY_ID
    assert row["category_id"] == 1487580009286598656  # the float's value: near, not equal
    assert row["user_id"] == 562076640


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("user_id", "5.62076640e+08"),  # scientific notation: the writer may have rounded
        ("user_id", "12345678901234567.0"),  # a float above 2**53 has lost digits
        ("product_id", "4.4600062E+07"),
        ("user_id", "-541312140"),
        ("product_id", "-1"),
        ("category_id", "-2103807459595387724"),  # negative: corrupt, not a lost digit
    ],
)
def test_keys_that_went_through_a_float_and_negative_ids_are_quarantined(column, value):
    (row,) = typed(text_row(**{column: value}))
    assert row["_defect"] == f"unparseable_{column}"
    assert row[column] is None and row["_raw_line"] is not None


def test_negative_ids_are_refused_even_when_the_whole_column_is_integers():
    rows = typed(text_row(user_id="-5"), text_row(user_id="7"))
    assert [r["_defect"] for r in rows] == ["unparseable_user_id", None]


@pytest.mark.spark
def test_clean_and_quarantine_views_never_store_an_approximate_category_id(spark):
    rows = [
        (*raw_event("2019-10-01 10:00:00", category=1487580009286598656), "lossy_category_id"),
        (*raw_event("2019-10-01 10:00:01", category=7), None),
        (
            *raw_event("2019-10-01 10:00:02", category=1487580009286598656, price=-1.0),
            "lossy_category_id",
        ),
    ]
    raw = spark.createDataFrame(rows, f"{RAW_SCHEMA}, {WARNING_COLUMN} string")
    classified = classify_events(raw)
    assert sorted(r["category_id"] or 0 for r in clean_view(classified).collect()) == [0, 7]
    assert quarantine_view(classified).first()["category_id"] is None


def blanked(export: Export) -> Export:
    """``export`` with one id emptied every BLANK_EVERY rows (user, product, category in turn)."""
    rows = [list(r) for r in export.rows]
    for n, i in enumerate(range(0, len(rows), BLANK_EVERY)):
        rows[i][EVENT_COLUMNS.index(BLANKED[n % len(BLANKED)])] = ""
    return Export(tuple(tuple(r) for r in rows), export.tail)


def through_pandas(source: Path, target: Path, **read_options) -> Path:
    """What a user does: read with pandas, write back with the defaults (index included)."""
    pd.read_csv(source, **read_options).to_csv(target)
    return target


def with_cut_line_padded(original: Outcome) -> Counter:
    """pandas fills the missing last field of the cut-off line with NaN: the line becomes a row
    with an empty ``user_session`` instead of a line with too few fields."""
    expected = original.dropped.copy()
    expected["wrong_field_count"] -= 1
    expected["missing_user_session"] += 1
    return +expected


def defective_share(outcome: Outcome) -> float:
    defective = sum(n for r, n in outcome.dropped.items() if r.startswith(INGESTION_DEFECTS))
    return defective / outcome.rows


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    """The real excerpt (and a copy with a few empty ids) before and after pandas."""
    folder = tmp_path_factory.mktemp("pandas")
    original = real_file(REAL_17K)
    holes = folder / "holes.csv"
    holes.write_bytes(blanked(Export.load(original)).text())
    float_ids = through_pandas(holes, folder / "float_ids.csv")
    return {
        "original": original,
        "round_trip": through_pandas(original, folder / "round_trip.csv"),
        "holes": holes,
        "float_ids": float_ids,
        # Read back without index_col and with dates, written again: ",Unnamed: 0,event_time"
        # and event times as "2019-10-01 00:00:00+00:00".
        "twice": through_pandas(float_ids, folder / "twice.csv", parse_dates=["event_time"]),
    }


@pytest.fixture(scope="module")
def outcomes(spark, exports, tmp_path_factory) -> dict[str, Outcome]:
    data = {name: path.read_bytes() for name, path in exports.items()}
    return classify_each(spark, tmp_path_factory, data, "export.csv")


def test_the_round_trips_look_like_what_users_send(exports):
    assert exports["round_trip"].read_text().startswith(",event_time,event_type,")
    float_ids = exports["float_ids"].read_text().splitlines()[1].split(",")
    assert float_ids[3].endswith(".0") and "e+18" in float_ids[4]  # product_id, category_id
    assert exports["twice"].read_text().startswith(",Unnamed: 0,event_time,")


@pytest.mark.spark
@pytest.mark.slow  # the module fixture ingests five whole months
def test_a_pandas_round_trip_keeps_every_row_of_the_month(outcomes):
    original, round_trip = outcomes["original"], outcomes["round_trip"]
    assert round_trip.rows == original.rows
    assert round_trip.kept == original.kept
    assert round_trip.dropped == with_cut_line_padded(original)
    assert not round_trip.warnings  # an int64 column without NaN is written exactly


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.parametrize("name", ["float_ids", "twice"])
def test_float_ids_from_columns_with_nan_keep_the_month(outcomes, exports, name):
    before, after = outcomes["holes"], outcomes[name]
    assert after.rows == before.rows
    assert after.kept == before.kept  # no month lost, no row lost
    assert after.dropped == with_cut_line_padded(before)
    assert {"missing_user_id", "missing_product_id"} <= set(after.dropped)
    assert defective_share(after) <= QualityResource().max_defective_share
    # Every row whose category_id was written through a float is counted for the warning.
    frame = pd.read_csv(exports[name])
    lossy = int(frame["category_id"].notna().sum())
    assert after.warnings == {WARNING_LOSSY_CATEGORY_ID: lossy}
    # Rows whose category_id was emptied are kept (an attribute, not a key), without a warning.
    assert before.kept_without_category > 0
    assert after.kept_without_category == before.kept_without_category
    kept_with_category = sum(after.kept.values()) - after.kept_without_category
    assert after.kept_warnings == {WARNING_LOSSY_CATEGORY_ID: kept_with_category}

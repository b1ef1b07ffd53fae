"""Build small typed event DataFrames for Spark tests."""

from datetime import UTC, datetime

from pyspark.sql import DataFrame

RAW_SCHEMA = (
    "event_time timestamp, event_type string, product_id long, category_id long, "
    "category_code string, brand string, price double, user_id long, user_session string, "
    "_source_file string, _defect string, _raw_line string, month string"
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def raw_event(
    time,
    kind="view",
    product=1,
    price=10.0,
    user=1,
    session="s1",
    category=100,
    code="electronics.smartphone",
    brand="acme",
    defect=None,
    month=None,
):
    return (
        at(time),
        kind,
        product,
        category,
        code,
        brand,
        price,
        user,
        session,
        "f.csv",
        defect,
        None if defect is None else "raw",
        month or time[:7],
    )


def raw_frame(spark, rows) -> DataFrame:
    return spark.createDataFrame(rows, RAW_SCHEMA)

"""The warehouse and the landing zone on S3, against a real S3 protocol server (moto).

Exactly the code used locally: only the URIs and AMAZING_S3_ENDPOINT change.
"""

import os
import time
import uuid
from pathlib import Path

import boto3
import dagster as dg
import pytest
from pyspark.sql import functions as F

from amazing_assets.datagen.generator import GenerationSpec, generate_month
from amazing_assets.definitions import build_definitions
from amazing_assets.defs.ingestion.landing import list_month_files
from amazing_assets.defs.ingestion.sensors import build_landing_sensor
from amazing_assets.defs.segments.prediction import behaviour_features, load_predictor
from amazing_assets.demo import quarantine_reasons
from amazing_assets.lib.delta_tables import month_row_counts, open_table, read_months
from amazing_assets.lib.io_managers import read_spark, write_months
from amazing_assets.lib.partitions import RANGE_END_TAG, RANGE_START_TAG
from amazing_assets.lib.settings import load_settings
from amazing_assets.lib.storage import LOCATION_OPTION, Location, s3_settings_from_env
from amazing_assets.lib.tables import table_location
from amazing_assets.lib.warehouse import StorageAccessError, WarehouseResource
from amazing_assets_tests.conftest import REAL_17K, free_port, real_file, start_moto
from amazing_assets_tests.support.delta_files import files_in_log, files_on_store
from amazing_assets_tests.support.flaky_proxy import FlakyProxy

pytestmark = pytest.mark.slow
MONTHS = ["2019-10", "2019-11"]


def upload(bucket: str, key: str, data: bytes) -> None:
    location = Location.parse(f"s3://{bucket}/{key}")
    with location.filesystem().open_output_stream(location.path) as out:
        out.write(data)


def definitions(bucket: str, home: Path) -> dg.Definitions:
    return build_definitions(
        load_settings(
            {
                "AMAZING_HOME": str(home),
                "AMAZING_LANDING": f"s3://{bucket}/landing",
                "AMAZING_WAREHOUSE": f"s3://{bucket}/warehouse",
            }
        )
    )


@pytest.fixture(scope="module")
def chain_on_s3(s3_server, spark, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AMAZING_S3_ENDPOINT", s3_server)
        bucket = f"chain-{uuid.uuid4().hex[:8]}"
        boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(
            Bucket=bucket
        )
        local = tmp_path_factory.mktemp("s3chain")
        for index, month in enumerate(MONTHS):
            result = generate_month(
                GenerationSpec(month=month, events=20_000, users=2_000, seed=5, month_index=index),
                local,
            )
            upload(bucket, f"landing/{month}/events.csv", result.path.read_bytes())
        defs = definitions(bucket, local / "home")
        started = time.perf_counter()
        result = defs.resolve_job_def("monthly_segments").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            tags={RANGE_START_TAG: "2019-10-01", RANGE_END_TAG: "2019-11-01"},
        )
        seconds = time.perf_counter() - started
        assert result.success
        yield bucket, local, result, seconds


def test_the_full_chain_runs_on_s3_and_reads_back_with_deltalake(
    chain_on_s3, s3_server, monkeypatch
):
    bucket, local, _, seconds = chain_on_s3
    monkeypatch.setenv("AMAZING_S3_ENDPOINT", s3_server)
    warehouse = Location.parse(f"s3://{bucket}/warehouse")
    raw = month_row_counts(table_location(warehouse, "raw_events"))
    lines = {m: (local / m / "events.csv").read_bytes().count(b"\n") - 1 for m in MONTHS}
    assert raw == lines
    clean = month_row_counts(warehouse.child("clean_events"))
    dropped = quarantine_reasons(table_location(warehouse, "event_quarantine"), MONTHS)
    for month in MONTHS:
        assert raw[month] == clean[month] + sum(dropped[month].values())
    profiles = read_months(warehouse.child("cluster_profiles"), MONTHS).to_pandas()
    assert (
        set(profiles["month"]) == set(MONTHS)
        and profiles.groupby("month")["name"].apply(lambda n: n.is_unique).all()
    )
    value = read_months(warehouse.child("customer_value"), MONTHS).to_pandas()
    assert set(value["month"]) == set(MONTHS) and (value["expected_revenue_90d"] >= 0).all()
    prediction = load_predictor(warehouse, "2019-11").predict(
        behaviour_features(recency_days=3, orders=0, spend=0, views=12, carts=0)
    )
    assert prediction.name
    objects = boto3.client("s3", endpoint_url=s3_server).list_objects_v2(
        Bucket=bucket, Prefix="warehouse/kmeans_model/model/"
    )
    assert {o["Key"].rsplit("/", 1)[-1] for o in objects["Contents"]} == {
        "model.skops",
        "manifest.json",
    }
    print(f"\n2-month chain on the S3 server: {seconds:.1f} s")


def test_sensor_requests_one_run_per_new_month_file(s3_bucket, tmp_path):
    landing = f"s3://{s3_bucket}/landing"
    warehouse = WarehouseResource(
        warehouse_uri=f"s3://{s3_bucket}/warehouse",
        landing_uri=landing,
        s3_endpoint=os.environ["AMAZING_S3_ENDPOINT"],
    )
    sensor = build_landing_sensor(dg.define_asset_job("monthly_segments"))
    instance = dg.DagsterInstance.ephemeral()

    def tick(cursor):
        context = dg.build_sensor_context(
            cursor=cursor, resources={"warehouse": warehouse}, instance=instance
        )
        return sensor(context), context.cursor

    nothing, cursor = tick(None)
    assert isinstance(nothing, dg.SkipReason)
    upload(s3_bucket, "landing/2019-10/events.csv", real_file(REAL_17K).read_bytes())
    upload(s3_bucket, "landing/2019-10/notes.txt", b"not an export")
    requests, cursor = tick(cursor)
    assert [r.partition_key for r in requests] == ["2019-10-01"]
    again, cursor = tick(cursor)
    assert isinstance(again, dg.SkipReason)  # idempotent: processed files are not processed again
    upload(s3_bucket, "landing/2019-10/events.csv", real_file(REAL_17K).read_bytes()[:-100])
    changed, cursor = tick(cursor)
    assert [r.partition_key for r in changed] == ["2019-10-01"]
    assert changed[0].run_key != requests[0].run_key
    upload(s3_bucket, "landing/2099-01/events.csv", b"x")  # a month that has not ended yet
    waiting, _ = tick(cursor)
    assert isinstance(waiting, dg.SkipReason) and "2099-01" in waiting.skip_message


def test_unreachable_endpoint_fails_fast_naming_the_setting(monkeypatch):
    port = free_port()  # nothing listens there
    warehouse = WarehouseResource(
        warehouse_uri="s3://amazing/warehouse",
        landing_uri="s3://amazing/landing",
        s3_endpoint=f"http://127.0.0.1:{port}",
    )
    started = time.perf_counter()
    with pytest.raises(
        StorageAccessError, match=rf"cannot reach AMAZING_S3_ENDPOINT=http://127.0.0.1:{port}"
    ):
        warehouse.preflight()
    assert time.perf_counter() - started < 30


def test_missing_bucket_names_the_bucket_and_the_setting(s3_server):
    warehouse = WarehouseResource(
        warehouse_uri="s3://no-such-bucket/warehouse", landing_uri="/tmp", s3_endpoint=s3_server
    )
    with pytest.raises(
        StorageAccessError, match=r"bucket 'no-such-bucket' does not exist.*AMAZING_WAREHOUSE"
    ):
        warehouse.preflight()


def test_a_run_with_a_missing_bucket_fails_before_any_work(s3_server, tmp_path, monkeypatch):
    monkeypatch.setenv("AMAZING_S3_ENDPOINT", s3_server)
    defs = definitions("no-such-bucket", tmp_path)
    result = defs.resolve_job_def("monthly_segments").execute_in_process(
        partition_key="2019-10-01", instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert not result.success
    assert not result.get_asset_materialization_events()
    text = " ".join(str(e.event_specific_data) for e in result.all_events if e.is_failure)
    assert "no-such-bucket" in text and "AMAZING_WAREHOUSE" in text


@pytest.fixture
def authenticating_s3():
    """A second S3 server that checks credentials (moto's IAM auth mode)."""
    process, endpoint = start_moto({"INITIAL_NO_AUTH_ACTION_COUNT": "0"})
    yield endpoint
    process.terminate()
    process.wait(10)


def test_wrong_credentials_name_the_variables(authenticating_s3):
    warehouse = WarehouseResource(
        warehouse_uri="s3://amazing/warehouse",
        landing_uri="s3://amazing/landing",
        s3_endpoint=authenticating_s3,
        aws_access_key_id="AKIAWRONG",
        aws_secret_access_key="wrong",
    )
    with pytest.raises(
        StorageAccessError,
        match=r"refused the credentials.*AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    ):
        warehouse.preflight()


def test_a_server_failing_some_requests_is_retried_until_it_succeeds(
    s3_bucket, s3_server, spark, monkeypatch
):
    with FlakyProxy(s3_server, failure_rate=0.15, seed=7) as proxy:
        monkeypatch.setenv("AMAZING_S3_ENDPOINT", proxy.url)
        table = Location.parse(f"s3://{s3_bucket}/warehouse/t", s3_settings_from_env())
        df = spark.createDataFrame([("2019-10", i) for i in range(500)], "month string, id long")
        write_months(df, table, ["2019-10"], "through a flaky server")
        write_months(df.limit(100), table, ["2019-10"], "again")
        assert month_row_counts(table) == {"2019-10": 100}
        assert read_spark(spark, table, ["2019-10"]).count() == 100
        upload(s3_bucket, "landing/2019-10/events.csv", real_file(REAL_17K).read_bytes())
        files = list_month_files(
            Location.parse(f"s3://{s3_bucket}/landing", s3_settings_from_env()), "2019-10"
        )
        assert files[0].size == REAL_17K.stat().st_size
    assert proxy.failed >= 3, (proxy.failed, proxy.requests)  # the server really failed requests


def test_a_write_killed_midway_on_s3_leaves_the_previous_version(s3_bucket, spark):
    table = Location.parse(f"s3://{s3_bucket}/warehouse/t", s3_settings_from_env())
    write_months(
        spark.createDataFrame([("2019-10", i) for i in range(100)], "month string, id long"),
        table,
        ["2019-10"],
        "good",
    )

    @F.udf("long")
    def die_late(i):
        if i == 250:
            raise RuntimeError("killed mid-write")
        return i

    failing = spark.createDataFrame([("2019-10", i) for i in range(300)], "month string, id long")
    failing = failing.repartition(2).withColumn("id", die_late("id"))
    with pytest.raises(Exception, match="killed mid-write"):
        (
            failing.write.format("amazing_delta")
            .mode("overwrite")
            .option(LOCATION_OPTION, table.to_option())
            .option("replace_months", "2019-10")
            .option("rows_per_file", "20")
            .save()
        )
    assert month_row_counts(table) == {"2019-10": 100}
    assert open_table(table).version() == 0
    # Anything a still-running task uploaded after the abort is swept by the next write.
    write_months(
        spark.createDataFrame([("2019-10", 1)], "month string, id long"), table, ["2019-10"], "next"
    )
    assert files_on_store(table) == files_in_log(table)  # no orphan objects left behind

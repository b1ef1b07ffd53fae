"""What the landing sensor requests, given files, its cursor and what Dagster is already doing."""

from amazing_assets.defs.ingestion.sensors import plan_runs

KNOWN = {"2019-10-01", "2019-11-01"}
FILES = {"2019-10": {"a.csv": "10:1000"}, "2019-11": {"b.csv": "20:2000"}}


def test_new_months_are_requested_once():
    requests, cursor, waiting = plan_runs(FILES, {}, KNOWN)
    assert [r.partition_key for r in requests] == ["2019-10-01", "2019-11-01"]
    assert cursor == FILES and waiting == []
    assert plan_runs(FILES, cursor, KNOWN)[0] == []


def test_a_month_a_backfill_or_run_covers_is_left_for_later():
    requests, cursor, _ = plan_runs(FILES, {}, KNOWN, in_flight=frozenset({"2019-10-01"}))
    assert [r.partition_key for r in requests] == ["2019-11-01"]
    assert "2019-10" not in cursor  # reconsidered once the backfill is over


def test_a_month_ingested_after_its_newest_file_needs_no_run():
    ingested = {"2019-10-01": 1500, "2019-11-01": 1500}
    requests, cursor, _ = plan_runs(FILES, {}, KNOWN, ingested_ns=ingested)
    assert [r.partition_key for r in requests] == ["2019-11-01"]  # its file is newer (2000)
    assert cursor["2019-10"] == FILES["2019-10"]


def test_files_of_a_month_not_yet_ended_wait():
    files = {**FILES, "2099-01": {"c.csv": "1:1"}}
    requests, cursor, waiting = plan_runs(files, {}, KNOWN)
    assert waiting == ["2099-01"] and "2099-01" not in cursor and len(requests) == 2


def test_months_in_flight_sees_runs_of_every_job_and_requested_backfills_only():
    """Before: only runs of monthly_segments counted, so a UI materialisation (__ASSET_JOB) of a
    month did not stop the sensor from starting a second run of it."""
    import uuid

    import dagster as dg

    from amazing_assets.defs.ingestion.sensors import months_in_flight
    from amazing_assets.lib.partitions import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG

    instance = dg.DagsterInstance.ephemeral()

    def run(job: str, status: dg.DagsterRunStatus, tags: dict[str, str]) -> None:
        instance.add_run(
            dg.DagsterRun(job_name=job, run_id=str(uuid.uuid4()), tags=tags, status=status)
        )

    run("__ASSET_JOB", dg.DagsterRunStatus.STARTED, {PARTITION_TAG: "2019-10-01"})
    run("monthly_segments", dg.DagsterRunStatus.STARTING, {
        RANGE_START_TAG: "2019-12-01", RANGE_END_TAG: "2020-01-01"
    })  # fmt: skip
    run("__ASSET_JOB", dg.DagsterRunStatus.SUCCESS, {PARTITION_TAG: "2019-11-01"})  # over
    run("erase_customers_job", dg.DagsterRunStatus.STARTED, {})  # no month
    assert months_in_flight(instance) == {"2019-10-01", "2019-12-01", "2020-01-01"}

"""What the landing sensor requests, given files, its cursor and what Dagster is already doing."""

from amazing_assets.sensors import plan_runs

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

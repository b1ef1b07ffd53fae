"""Erasure on request: a planted customer is forgotten in every table and version, nothing else.

Real pipeline runs (Spark, Delta) on local storage and on the S3 test server, then the
``erase_customers_job`` Dagster job driven by a request file naming the raw id only.
"""

from __future__ import annotations

import collections
import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from amazing_assets.datagen.generator import GenerationSpec, generate_month
from amazing_assets.definitions import build_definitions
from amazing_assets.defs.privacy.erasure import audit_entries, delta_tables
from amazing_assets.demo import materialize_months
from amazing_assets.lib.delta_tables import read_months
from amazing_assets.lib.pseudonymize import Pseudonymizer
from amazing_assets.lib.settings import load_settings
from amazing_assets.lib.storage import Location
from amazing_assets.lib.tables import SIDE_TABLE_FOLDERS

MONTH = "2019-10"
KEY = "test-key-0123456789abcdef0123456789abcdef"  # conftest's AMAZING_PSEUDONYMIZATION_KEY


@dataclass
class Store:
    """A landing zone and a warehouse, local or on the S3 test server."""

    landing: Location
    warehouse: Location
    defs: dg.Definitions

    def put(self, relative: str, data: bytes) -> None:
        target = self.landing.child(*relative.split("/"))
        fs = self.landing.filesystem()
        if not self.landing.is_s3:
            Path(target.path).parent.mkdir(parents=True, exist_ok=True)
        with fs.open_output_stream(target.path) as out:
            out.write(data)

    def exists(self, relative: str) -> bool:
        target = self.landing.child(*relative.split("/"))
        info = self.landing.filesystem().get_file_info(target.path)
        return info.type != pafs.FileType.NotFound


def planted_export(tmp_path: Path) -> tuple[bytes, int]:
    """A generated month plus one unparseable row of its busiest customer; (export, user id)."""
    result = generate_month(GenerationSpec(month=MONTH, events=6_000, users=500, seed=3), tmp_path)
    text = result.path.read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    # The busiest customer that is not a bot (bots never reach clean_events).
    counts = collections.Counter(r["user_id"] for r in rows)
    user = int(max((n, u) for u, n in counts.items() if n <= 100)[1])
    session = next(r["user_session"] for r in rows if int(r["user_id"]) == user)
    bad = f"{MONTH}-02 10:00:00 UTC,view,1004856,2053,,acme,not-a-price,{user},{session}\n"
    return (text + bad).encode(), user


def customer_rows(warehouse: Location, user: int, token: str) -> dict[str, int]:
    """Rows of the customer in each table: by raw id in the raw zone, by token elsewhere."""
    counts = {}
    for name in delta_tables(warehouse):
        table = read_months(warehouse.child(*name.split("/")))
        if "user_id" in table.column_names:
            counts[name] = table.column("user_id").to_pylist().count(user)
        elif "user_key" in table.column_names:
            counts[name] = table.column("user_key").to_pylist().count(token)
    return counts


def table_sizes(warehouse: Location) -> dict[str, int]:
    return {
        n: read_months(warehouse.child(*n.split("/"))).num_rows for n in delta_tables(warehouse)
    }


def every_delta_table(warehouse: Location) -> set[str]:
    """Every Delta table under the warehouse (raw zone and nested ones included), by path."""
    fs = warehouse.filesystem()
    return {
        info.path[len(warehouse.path) :].strip("/").removesuffix("_delta_log").strip("/")
        for info in fs.get_file_info(pafs.FileSelector(warehouse.path, recursive=True))
        if info.type == pafs.FileType.Directory and info.base_name == "_delta_log"
    }


def every_stored_text(warehouse: Location) -> str:
    """Every value of every data file and every log entry of the warehouse, versions included."""
    fs = warehouse.filesystem()
    texts = []
    for info in fs.get_file_info(pafs.FileSelector(warehouse.path, recursive=True)):
        if info.type != pafs.FileType.File:
            continue
        if info.path.endswith(".parquet"):
            with fs.open_input_file(info.path) as handle:
                texts.append(json.dumps(pq.read_table(handle).to_pylist(), default=str))
        elif "_delta_log" in info.path or info.path.endswith(".json"):
            with fs.open_input_stream(info.path) as stream:
                texts.append(stream.read().decode("utf-8", "replace"))
    return "\n".join(texts)


def run_and_erase(store: Store, export: bytes, user: int) -> None:
    token = Pseudonymizer(KEY.encode()).token(user)
    store.put(f"{MONTH}/events.csv", export)
    instance = dg.DagsterInstance.ephemeral()
    assert materialize_months([MONTH], instance, store.defs)[MONTH].success
    before = customer_rows(store.warehouse, user, token)
    sizes = table_sizes(store.warehouse)
    # The customer is everywhere a customer can be, quarantine included.
    for name in ("raw/raw_events", "clean_events", "raw/event_quarantine", "user_features_rfm",
                 "pca_embedding/coordinates", "kmeans_model/assignments"):  # fmt: skip
        assert before.get(name, 0) > 0, (name, before)

    store.put("_erasure/request-1.json", json.dumps({"user_ids": [f"{user}.0"]}).encode())
    result = store.defs.resolve_job_def("erase_customers_job").execute_in_process(
        instance=instance,
        run_config={
            "ops": {"erase_requested_customers": {"config": {"request_file": "request-1.json"}}}
        },
    )
    assert result.success
    # Every table the month's run and the erasure wrote is an asset of the graph (lineage has
    # no hole), and the erasure recorded a materialisation of the two it appended to.
    assets = {k.to_user_string() for k in store.defs.resolve_asset_graph().get_all_asset_keys()}
    written = every_delta_table(store.warehouse)
    assert {"erased_customers", "erasure_audit", "raw/raw_events"} <= written
    folders = {t.removeprefix("raw/").split("/")[0] for t in written}
    assert {SIDE_TABLE_FOLDERS.get(f, f) for f in folders} <= assets  # side tables: their asset
    recorded = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert recorded == {"erased_customers", "erasure_audit"}

    # Gone from every table and every version; every other row still there.
    assert set(customer_rows(store.warehouse, user, token).values()) == {0}
    after = table_sizes(store.warehouse)
    assert {n: sizes[n] - after.get(n, 0) for n in sizes} == {n: before.get(n, 0) for n in sizes}
    stored = every_stored_text(store.warehouse)
    assert not re.search(rf"(?<!\d){user}(?!\d)", stored) and token not in stored
    # The request (a raw id) is gone; the audit names no customer, only a digest and counts.
    assert not store.exists("_erasure/request-1.json")
    [audit] = audit_entries(store.warehouse)
    assert json.loads(audit["customer_digests"]) == [hashlib.sha256(token.encode()).hexdigest()]
    removed = json.loads(audit["rows_removed"])
    assert set(before) <= set(removed) and removed == {n: before.get(n, 0) for n in removed}
    # The landing export still holds the customer: reported, for the operator to replace.
    landing_lines = export.decode().count(f",{user},")
    assert json.loads(audit["landing_files_still_holding_customers"]) == {
        f"{MONTH}/events.csv": landing_lines
    }
    # Nothing of the customer in the run's logs either.
    logs = " ".join(
        str(e.dagster_event or e.user_message) for e in instance.all_logs(result.run_id)
    )
    assert not re.search(rf"(?<!\d){user}(?!\d)", logs) and token not in logs


@pytest.mark.slow
@pytest.mark.spark
def test_erasure_on_local_storage(tmp_path, spark):
    export, user = planted_export(tmp_path / "gen")
    settings = load_settings(
        {
            "AMAZING_HOME": str(tmp_path / "home"),
            "AMAZING_LANDING": str(tmp_path / "landing"),
            "AMAZING_WAREHOUSE": str(tmp_path / "warehouse"),
        }
    )
    store = Store(
        Location.parse(settings.landing_uri),
        Location.parse(settings.warehouse_uri),
        build_definitions(settings),
    )
    run_and_erase(store, export, user)


@pytest.mark.slow
@pytest.mark.spark
def test_erasure_on_the_s3_server(tmp_path, spark, s3_bucket):
    export, user = planted_export(tmp_path / "gen")
    settings = load_settings(
        {
            "AMAZING_HOME": str(tmp_path / "home"),
            "AMAZING_LANDING": f"s3://{s3_bucket}/landing",
            "AMAZING_WAREHOUSE": f"s3://{s3_bucket}/warehouse",
        }
    )
    store = Store(
        Location.parse(settings.landing_uri),
        Location.parse(settings.warehouse_uri),
        build_definitions(settings),
    )
    run_and_erase(store, export, user)


# Issue 24, finding 4: lines are matched by their fields, exactly, never by substring.
SHORT, NEIGHBOUR = 1004, 10045
SESSION_A = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"
SESSION_B = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"


def line(user: str, session: str, price: str = "not-a-price") -> str:
    return f"2019-10-02 10:00:00 UTC,view,1004856,2053,,acme,{price},{user},{session}"


def small_warehouse(tmp_path: Path) -> tuple[Location, Location]:
    """raw_events, event_quarantine and rejected_events holding customers 1004 and 10045."""
    import pyarrow as pa

    from amazing_assets.lib.delta_tables import write_arrow_months
    from amazing_assets.lib.tables import table_location

    warehouse = Location.parse(str(tmp_path / "warehouse"))
    landing = Location.parse(str(tmp_path / "landing"))
    raw_lines = [
        line(str(NEIGHBOUR), SESSION_B),
        line(" 001004 ", SESSION_A),  # the parser reads user 1004
        f"{line(str(SHORT), SESSION_A)},one-field-too-many",  # wrong_field_count: no user_id
        f"{line(str(NEIGHBOUR), SESSION_B)},one-field-too-many",
    ]
    month = ["2019-10"] * 4
    write_arrow_months(
        table_location(warehouse, "raw_events"),
        pa.table(
            {
                "user_id": pa.array([NEIGHBOUR, SHORT, None, None], pa.int64()),
                "user_session": [SESSION_B, SESSION_A, None, None],
                "_raw_line": raw_lines,
                "month": month,
            }
        ),
        ["2019-10"],
    )
    token = Pseudonymizer(KEY.encode()).token
    write_arrow_months(
        table_location(warehouse, "event_quarantine"),
        pa.table(
            {
                "user_key": [token(NEIGHBOUR), token(SHORT), None, None],
                "_raw_line": raw_lines,
                "reason": ["unparseable_price"] * 2 + ["wrong_field_count"] * 2,
                "month": month,
            }
        ),
        ["2019-10"],
    )
    write_arrow_months(
        table_location(warehouse, "rejected_events"),
        pa.table({"line": raw_lines, "reason": ["x"] * 4, "month": month}),
        ["2019-10"],
    )
    return warehouse, landing


def test_erasing_a_short_id_leaves_the_rows_of_customers_whose_ids_contain_it(tmp_path):
    from amazing_assets.defs.privacy.erasure import erase_customers

    warehouse, landing = small_warehouse(tmp_path)
    (tmp_path / "landing" / MONTH).mkdir(parents=True)
    (tmp_path / "landing" / MONTH / "events.csv").write_text(
        "\n".join([line(str(NEIGHBOUR), SESSION_B), line('"001004"', SESSION_A)]) + "\n"
    )
    report = erase_customers(warehouse, landing, [SHORT], KEY.encode(), request_id="r-1")
    for name in ("raw/raw_events", "raw/event_quarantine", "raw/rejected_events"):
        rows = read_months(warehouse.child(*name.split("/")))
        texts = rows.column("line" if "line" in rows.column_names else "_raw_line").to_pylist()
        # The neighbour's two lines stay, the customer's two (one by field only) are gone.
        neighbour = line(str(NEIGHBOUR), SESSION_B)
        assert sorted(texts) == sorted([neighbour, f"{neighbour},one-field-too-many"]), name
        assert report.rows_removed[name] == 2
    # The landing scan reads the field as the parser does ("001004" in quotes is the customer).
    assert report.landing_files == {f"{MONTH}/events.csv": 1}


def test_the_suppression_filter_takes_out_erased_customers_rows_by_id_and_by_line():
    import pyarrow as pa

    from amazing_assets.defs.ingestion.suppression import SuppressionFilter, customer_digest

    token = Pseudonymizer(KEY.encode()).token
    batch = pa.RecordBatch.from_pydict(
        {
            "user_id": pa.array([SHORT, NEIGHBOUR, None, None], pa.int64()),
            "_raw_line": [None, None, f"{line('01004', 's')},x", f"{line('10045', 's')},x"],
        }
    )
    suppression = SuppressionFilter(KEY.encode(), frozenset({customer_digest(token(SHORT))}))
    kept, erased = suppression.split(batch)
    assert erased == 2
    assert kept.column("user_id").to_pylist() == [NEIGHBOUR, None]
    assert "erased" not in repr(suppression) and KEY not in repr(suppression)


# Sessions are matched by whole field, never by substring: one customer's session inside another
# customer's field (a longer session, or a short session equal to a common word) keeps the
# other customer's rows.
SESSION_CASES = {
    "prefix_of_another_session": (SESSION_A, f"{SESSION_A}-2"),
    "suffix_of_another_session": (SESSION_A[9:], SESSION_A),
    "short_word_in_every_line": ("view", SESSION_B),
}


@pytest.mark.parametrize("case", list(SESSION_CASES))
def test_a_session_inside_another_customers_field_keeps_their_rows(tmp_path, case):
    import pyarrow as pa

    from amazing_assets.defs.cleaning.clean_tables import line_without_identifiers
    from amazing_assets.defs.privacy.erasure import erase_customers
    from amazing_assets.lib.delta_tables import write_arrow_months
    from amazing_assets.lib.tables import table_location

    session, neighbours = SESSION_CASES[case]
    warehouse = Location.parse(str(tmp_path / "warehouse"))
    landing = Location.parse(str(tmp_path / "landing"))
    customer_line = line(str(SHORT), session)
    neighbour_lines = [
        line(str(NEIGHBOUR), neighbours),
        f"{line(str(NEIGHBOUR), neighbours)},one-field-too-many",  # no user_id parsed
        f"{line('not-an-id', neighbours)}",  # no user_id parsed, session in its place
    ]
    raw_lines = [customer_line, *neighbour_lines]
    ids = [SHORT, NEIGHBOUR, None, None]
    raw_sessions = [session, neighbours, None, neighbours]
    month = ["2019-10"] * len(raw_lines)
    write_arrow_months(
        table_location(warehouse, "raw_events"),
        pa.table(
            {
                "user_id": pa.array(ids, pa.int64()),
                "user_session": raw_sessions,
                "_raw_line": raw_lines,
                "month": month,
            }
        ),
        ["2019-10"],
    )
    token = Pseudonymizer(KEY.encode()).token
    quarantined = [
        line_without_identifiers(text, uid, None) for text, uid in zip(raw_lines, ids, strict=True)
    ]
    write_arrow_months(
        table_location(warehouse, "event_quarantine"),
        pa.table(
            {
                "user_key": [token(SHORT), token(NEIGHBOUR), None, None],
                "_raw_line": quarantined,
                "reason": ["unparseable_price"] * len(raw_lines),
                "month": month,
            }
        ),
        ["2019-10"],
    )
    write_arrow_months(
        table_location(warehouse, "rejected_events"),
        pa.table({"line": raw_lines, "reason": ["x"] * len(raw_lines), "month": month}),
        ["2019-10"],
    )
    report = erase_customers(warehouse, landing, [SHORT], KEY.encode(), request_id="r-s")
    expected = {
        "raw/raw_events": neighbour_lines,
        "raw/event_quarantine": quarantined[1:],
        "raw/rejected_events": neighbour_lines,
    }
    for name, kept in expected.items():
        rows = read_months(warehouse.child(*name.split("/")))
        texts = rows.column("line" if "line" in rows.column_names else "_raw_line").to_pylist()
        assert sorted(texts) == sorted(kept), name
        assert report.rows_removed[name] == 1, name


# Issue 24, finding 14: the erasure's landing scan is bounded on decompressed bytes.


def test_the_landing_scan_refuses_a_gzip_bomb_before_changing_anything(tmp_path):
    import gzip

    from amazing_assets.defs.ingestion.suppression import suppressed_digests
    from amazing_assets.defs.privacy.erasure import ErasureRequestError, ScanLimits, erase_customers

    warehouse, landing = small_warehouse(tmp_path)
    (tmp_path / "landing" / MONTH).mkdir(parents=True)
    bomb = tmp_path / "landing" / MONTH / "events.csv.gz"
    bomb.write_bytes(gzip.compress(b"0" * (8 << 20)))  # 8 MiB of zeros in ~8 KiB
    before = table_sizes(warehouse)
    limits = ScanLimits(max_bytes=64 << 20, max_ratio=100, ratio_after=1 << 20)
    with pytest.raises(ErasureRequestError, match=r"events\.csv\.gz decompresses to more than"):
        erase_customers(warehouse, landing, [SHORT], KEY.encode(), "r-1", scan_limits=limits)
    assert table_sizes(warehouse) == before and not suppressed_digests(warehouse)
    # The absolute bound too, whatever the ratio.
    with pytest.raises(ErasureRequestError, match="limits 4,194,304 bytes"):
        erase_customers(
            warehouse, landing, [SHORT], KEY.encode(), "r-2",
            scan_limits=ScanLimits(max_bytes=4 << 20, max_ratio=10**6, ratio_after=1 << 40),
        )  # fmt: skip


def test_a_gzip_bomb_is_refused_by_the_default_limits_within_seconds(tmp_path):
    import gzip
    import time

    from amazing_assets.defs.privacy.erasure import ErasureRequestError, erase_customers

    warehouse, landing = small_warehouse(tmp_path)
    (tmp_path / "landing" / MONTH).mkdir(parents=True)
    bomb = tmp_path / "landing" / MONTH / "events.csv.gz"
    bomb.write_bytes(gzip.compress(b"0" * (80 << 20)))  # 80 MiB out of 80 KiB (ratio ~1000)
    started = time.perf_counter()
    with pytest.raises(ErasureRequestError, match="no export is that large"):
        erase_customers(warehouse, landing, [SHORT], KEY.encode(), "r-1")
    assert time.perf_counter() - started < 20


# Issue 24, findings 2 and 3: an erasure lasts, and covers Dagster's event log.
MONTHS = ["2019-10", "2019-11"]


def two_month_landing(tmp_path: Path) -> tuple[Path, int, str, dict[str, int]]:
    """Two generated months holding one customer in both, with lines the parser reads as them in
    other shapes (leading zeros, an unparseable price, one field too many).

    Returns the landing folder, the user id, one of their sessions and, per month, how many of
    the export's lines are theirs."""
    from amazing_assets.defs.ingestion.id_fields import line_user_ids

    landing = tmp_path / "landing"
    rows = {}
    for index, month in enumerate(MONTHS):
        spec = GenerationSpec(month=month, events=5_000, users=500, seed=5, month_index=index)
        result = generate_month(spec, landing)
        rows[month] = list(csv.DictReader(io.StringIO(result.path.read_text())))
    counts = [collections.Counter(int(r["user_id"]) for r in rows[m]) for m in MONTHS]
    user = max(u for u in counts[0] if 5 < counts[0][u] <= 100 and 5 < counts[1][u] <= 100)
    session = next(r["user_session"] for r in rows[MONTHS[0]] if int(r["user_id"]) == user)
    theirs = {}
    for month in MONTHS:
        path = landing / month / "events.csv"
        extra = [
            f"{month}-02 10:00:00 UTC,view,1004856,2053,,acme,12.5,00{user},{session}",
            f"{month}-02 10:01:00 UTC,view,1004856,2053,,acme,not-a-price,{user},{session}",
            f"{month}-02 10:02:00 UTC,view,1004856,2053,,acme,12.5,{user},{session},extra",
        ]
        path.write_text(path.read_text() + "\n".join(extra) + "\n")
        lines = path.read_text().splitlines()[1:]
        theirs[month] = sum(1 for text in lines if user in line_user_ids(text))
    return landing, user, session, theirs


def every_version_holds(warehouse: Location, user: int, token: str) -> dict[str, list[int]]:
    """Per table, the versions one can still time-travel to that hold the customer."""
    from amazing_assets.lib.delta_tables import open_table

    holding: dict[str, list[int]] = {}
    for name in delta_tables(warehouse):
        location = warehouse.child(*name.split("/"))
        for version in range(open_table(location).version() + 1):
            try:
                table = read_months(location, version=version)
            except Exception:  # a version the erasure made unreachable
                continue
            found = (
                "user_id" in table.column_names and user in table.column("user_id").to_pylist()
            ) or (
                "user_key" in table.column_names and token in table.column("user_key").to_pylist()
            )
            if found:
                holding.setdefault(name, []).append(version)
    return holding


@pytest.mark.slow
@pytest.mark.spark
@pytest.mark.timeout(1800)  # five real runs (two months twice, the erasure) on a shared machine
def test_an_erased_customer_stays_erased_when_every_month_is_run_again(tmp_path, spark):
    from amazing_assets.lib.observability.run_history import mentions_pattern, run_texts
    from amazing_assets_tests.support.pipeline_run import definitions_for

    landing, user, session, theirs = two_month_landing(tmp_path)
    token = Pseudonymizer(KEY.encode()).token(user)
    defs = definitions_for(tmp_path, landing)
    warehouse = Location.parse(str(tmp_path / "warehouse"))
    pattern = mentions_pattern([user], [token, session])

    def runs_naming_the_customer(instance) -> list[str]:
        return [
            run.run_id
            for run in instance.get_runs()
            if any(pattern.search(text) for text in run_texts(instance, run))
        ]

    @dg.op
    def quote_a_data_line(context) -> None:
        # What a message quoting data does (an exception, a header mistaken for data).
        context.log.warning(f"cannot read line 2019-10-02,view,1,2,,acme,x,{user},{session}")
        raise ValueError(f"bad line ...,{user},{session}")

    @dg.job
    def quoting_job() -> None:
        quote_a_data_line()

    with dg.instance_for_test() as instance:
        assert all(r.success for r in materialize_months(MONTHS, instance, defs).values())
        assert customer_rows(warehouse, user, token)["clean_events"] > 0
        quoted = quoting_job.execute_in_process(instance=instance, raise_on_error=False)
        assert runs_naming_the_customer(instance) == [quoted.run_id]

        (landing / "_erasure").mkdir()
        (landing / "_erasure" / "req.json").write_text(json.dumps({"user_ids": [user]}))
        request = {"ops": {"erase_requested_customers": {"config": {"request_file": "req.json"}}}}
        erased = defs.resolve_job_def("erase_customers_job").execute_in_process(
            instance=instance, run_config=request
        )
        assert erased.success
        sizes = table_sizes(warehouse)

        # The exports still hold the customer: every month again, as a backfill would.
        again = materialize_months(MONTHS, instance, defs)
        assert all(r.success for r in again.values())

        # Absent from every table, every version one can travel to, every stored byte...
        assert set(customer_rows(warehouse, user, token).values()) == {0}
        assert every_version_holds(warehouse, user, token) == {}
        stored = every_stored_text(warehouse)
        assert not re.search(rf"(?<!\d)0*{user}(?!\d)", stored)
        assert token not in stored and session not in stored
        # ...and from Dagster's event log (every run: pipeline, quoting, erasure, re-runs).
        assert runs_naming_the_customer(instance) == []
        assert instance.get_run_by_id(quoted.run_id) is None  # its records named the customer
        # Accounted, not lost: the re-run counts the customer's lines as erased_customer, the
        # accounting identity holds, and every other row is as the erasure left it.
        for month, result in again.items():
            [raw] = [m.metadata for m in result.asset_materializations_for_node("raw_events")]
            assert raw["erased_customer_rows"].value == theirs[month]
            accounting = [
                c for c in result.get_asset_check_evaluations()
                if c.check_name == "accounting_identity"
            ]  # fmt: skip
            assert accounting and all(c.passed for c in accounting)
        events = ("raw/raw_events", "clean_events", "raw/event_quarantine", "user_features_rfm")
        assert {n: table_sizes(warehouse)[n] for n in events} == {n: sizes[n] for n in events}

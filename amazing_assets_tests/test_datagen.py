"""The generator: REES46 format, determinism, planted archetypes and defects."""

import csv
import filecmp
import re
from pathlib import Path

import pytest

from amazing_assets.datagen.archetypes import ARCHETYPE_NAMES, BOT
from amazing_assets.datagen.cli import main as datagen_main
from amazing_assets.datagen.generator import HEADER, GenerationSpec, generate_month
from amazing_assets_tests.conftest import REAL_17K, real_file

ROW = re.compile(
    r"^2019-10-(0[1-9]|[12]\d|3[01]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d UTC,"
    r"(view|cart|remove_from_cart|purchase),\d+,\d{19},[a-z_.]*,[a-z]*,\d+\.\d{2},5\d{8},"
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)


@pytest.fixture(scope="module")
def october(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("landing")
    result = generate_month(
        GenerationSpec(month="2019-10", events=60_000, users=6_000, seed=3), out
    )
    return out, result


def test_rows_have_the_real_export_format(october):
    out, result = october
    lines = (out / "2019-10" / "events.csv").read_text().splitlines()
    assert lines[0] == HEADER == real_file(REAL_17K).open().readline().strip()
    bad = [line for line in lines[1:] if not ROW.match(line)]
    assert bad == []
    assert len(lines) - 1 == result.rows


def test_rows_are_in_time_order_like_the_real_exports(october):
    out, _ = october
    times = [line[:19] for line in (out / "2019-10" / "events.csv").read_text().splitlines()[1:]]
    assert times == sorted(times)


def test_ground_truth_names_every_active_customer(october):
    out, result = october
    with (out / "_ground_truth" / "2019-10.csv").open() as handle:
        truth = list(csv.DictReader(handle))
    assert len(truth) == result.active_users
    assert {row["archetype"] for row in truth} <= {*ARCHETYPE_NAMES, BOT}
    assert {row["archetype"] for row in truth} >= set(ARCHETYPE_NAMES)
    users_in_events = {
        line.split(",")[7] for line in (out / "2019-10" / "events.csv").read_text().splitlines()[1:]
    }
    assert users_in_events == {row["user_id"] for row in truth}


def test_real_defects_are_planted(october):
    out, result = october
    text = (out / "2019-10" / "events.csv").read_text().splitlines()[1:]
    fields = [line.split(",") for line in text]
    assert result.planted["duplicates"] > 0 and result.planted["cart_bursts"] > 0
    assert result.planted["bot_users"] >= 1
    assert len(text) - len(set(text)) >= result.planted["duplicates"]
    empty_category = sum(1 for f in fields if f[4] == "") / len(fields)
    empty_brand = sum(1 for f in fields if f[5] == "") / len(fields)
    assert 0.1 < empty_category < 0.6 and 0.03 < empty_brand < 0.3
    purchasers = {f[7] for f in fields if f[1] == "purchase"}
    share = len(purchasers) / result.active_users
    assert 0.08 < share < 0.2  # ≈12.6 % in the real data


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        generate_month(
            GenerationSpec(month="2019-11", events=5_000, users=500, seed=seed), tmp_path / name
        )
    same = filecmp.cmp(
        tmp_path / "a/2019-11/events.csv", tmp_path / "b/2019-11/events.csv", shallow=False
    )
    other = filecmp.cmp(
        tmp_path / "a/2019-11/events.csv", tmp_path / "c/2019-11/events.csv", shallow=False
    )
    assert same and not other


def test_december_remaps_most_category_ids(tmp_path):
    for month, index in (("2019-11", 0), ("2019-12", 1)):
        generate_month(
            GenerationSpec(month=month, events=20_000, users=2_000, seed=5, month_index=index),
            tmp_path,
        )

    def categories(month):
        rows = (tmp_path / month / "events.csv").read_text().splitlines()[1:]
        return {r.split(",")[2]: r.split(",")[3] for r in rows}

    nov, dec = categories("2019-11"), categories("2019-12")
    common = set(nov) & set(dec)
    kept = sum(nov[p] == dec[p] for p in common) / len(common)
    assert 0.05 < kept < 0.4  # ~20 % of category ids kept in the real remap


def test_cli_writes_gzip_months(tmp_path, capsys):
    assert (
        datagen_main(
            [
                "--month",
                "2019-10",
                "--months",
                "2",
                "--events",
                "3000",
                "--users",
                "300",
                "--out",
                str(tmp_path),
                "--gzip",
            ]
        )
        == 0
    )
    assert (tmp_path / "2019-10" / "events.csv.gz").exists() and (
        tmp_path / "2019-11" / "events.csv.gz"
    ).exists()
    assert '"rows_per_second"' in capsys.readouterr().out


def test_cli_rejects_a_bad_month(tmp_path):
    with pytest.raises(SystemExit):
        datagen_main(
            ["--month", "October", "--events", "10", "--users", "10", "--out", str(tmp_path)]
        )

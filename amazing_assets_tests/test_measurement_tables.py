"""The measurement tables in the warehouse and in words: erasure reaches them, the app's verdict
sentences say what the rows say (real Delta tables, no Spark)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from amazing_assets.defs.measurement.audiences import build_audiences
from amazing_assets.defs.measurement.outcomes import OutcomeSettings, measure_exports
from amazing_assets.defs.privacy.erasure import erase_customers
from amazing_assets.lib.delta_tables import read_months, write_arrow_months
from amazing_assets.lib.pseudonymize import Pseudonymizer
from amazing_assets.lib.storage import Location
from amazing_assets.lib.tables import APP_TABLES
from amazing_assets_tests.support.planted_uplift import PlantedUplift, plant_purchases
from panel_app.outcome_text import figures_table, incremental_sentence, verdict_sentence

KEY = b"measurement-test-key-0123456789abcdef"
MONTH = "2019-11"


def profiles() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": [0, 1],
            "name": ["Champions", "Browsers"],
            "name_fr": ["Champions FR", "Visiteurs"],
            "offer": ["VIP early access", "Welcome offer"],
            "offer_fr": ["Accès VIP", "Offre de bienvenue"],
            "channel": ["email", "push"],
        }
    )


def test_an_erasure_removes_the_customer_from_the_exported_audiences(tmp_path: Path):
    warehouse = Location.parse(str(tmp_path / "warehouse"))
    landing = Location.parse(str(tmp_path / "landing"))
    (tmp_path / "landing").mkdir()
    tokens = Pseudonymizer(KEY)
    ids = list(range(541_000_000, 541_000_400))
    assignments = pd.DataFrame(
        {"user_key": [tokens.token(i) for i in ids], "segment": [i % 2 for i in ids]}
    )
    rows, log = build_audiences(MONTH, assignments, profiles())
    for name, frame in (("audience_exports", rows), ("audience_export_log", log)):
        write_arrow_months(
            warehouse.child(name), pa.Table.from_pandas(frame, preserve_index=False), [MONTH]
        )
    erased = ids[7]
    report = erase_customers(warehouse, landing, [erased], KEY, request_id="test")
    left = read_months(warehouse.child("audience_exports")).to_pandas()
    assert report.rows_removed["audience_exports"] == 1
    assert tokens.token(erased) not in set(left["user_key"])
    assert len(left) == len(rows) - 1
    assert "audience_export_log" not in report.rows_removed  # sizes only, no customer
    assert {"audience_exports", "audience_export_log", "action_outcomes"} <= set(APP_TABLES)


def outcome(status_case: str, language: str = "en") -> dict:
    assignments = pd.DataFrame({"user_key": [f"k{i}" for i in range(60_000)], "segment": 0})
    rows, _ = build_audiences(MONTH, assignments, profiles().iloc[:1])
    if status_case == "waiting":
        return measure_exports(rows, None, "2019-12").iloc[0].to_dict()
    if status_case == "small":
        rows = rows.iloc[:400]
    purchases = plant_purchases(rows, PlantedUplift(base_rate=0.15, uplift=0.3), seed=3)
    return measure_exports(rows, purchases, "2019-12", OutcomeSettings()).iloc[0].to_dict()


def test_verdict_sentences_say_what_the_rows_say():
    waiting = outcome("waiting")
    assert verdict_sentence(waiting, "en") == "waiting for 2019-12"
    assert verdict_sentence(waiting, "fr") == "en attente de 2019-12"
    assert incremental_sentence(waiting, "en") is None

    small = outcome("small")
    assert small["status"] == "not_measurable"
    controls, needed = int(small["controls"]), int(small["controls_needed"])
    assert verdict_sentence(small, "en") == (
        f"not measurable yet: the control holds {controls} customers, {needed:,} are needed"
    )
    assert verdict_sentence(small, "fr").startswith(
        f"pas encore mesurable : le groupe témoin compte {controls} clients"
    )
    table = figures_table(small, "en")
    assert set(table["Difference"]) == {""} and set(table["95 % interval"]) == {""}

    measured = outcome("measured")
    assert measured["status"] == "measured" and measured["verdict"] == "worked"
    diff, low, high = (
        100 * measured[c] for c in ("purchase_rate_diff", "purchase_rate_low", "purchase_rate_high")
    )
    assert verdict_sentence(measured, "en") == (
        f"+{diff:.1f} points of purchase rate (95 % interval +{low:.1f} to +{high:.1f}): "
        "the action worked"
    )
    french = verdict_sentence(measured, "fr")
    assert french.endswith(": l'action a marché") and f"+{diff:.1f}".replace(".", ",") in french
    assert incremental_sentence(measured, "en").startswith("Incremental revenue: +€")
    assert figures_table(measured, "fr").iloc[1]["Écart"].endswith(" pts")

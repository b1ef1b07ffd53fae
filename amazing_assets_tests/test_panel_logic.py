"""The app's pure helpers: number formats, access policy, Sankey labels, key loading."""

import pandas as pd
import pytest

from amazing_assets.defs.segments.migration import GONE, NEW
from amazing_assets.lib.pseudonymize import (
    KEY_ENV_VAR,
    PseudonymizationKeyError,
    existing_key,
)
from panel_app.access import authentication_required, may_open
from panel_app.data import migration_labels, previous_month
from panel_app.i18n import LABELS, format_change, format_money, format_percent


def test_numbers_are_formatted_the_french_and_the_english_way():
    assert format_money(1234567.5, "fr") == "1\u202f234\u202f567,50 €"
    assert format_money(1234567.5, "en") == "€1,234,567.50"
    assert format_percent(0.123, "fr") == "12,3\u202f%"
    assert format_change(110, 100, "en") == "+10.0% vs previous month"
    assert format_change(90, 100, "fr").startswith("−10,0")
    assert format_change(5, None, "fr") == "pas de mois précédent"


def test_every_label_exists_in_both_languages():
    assert all(set(texts) == {"fr", "en"} and all(texts.values()) for texts in LABELS.values())


def test_authentication_is_required_outside_the_embedded_demo():
    assert not authentication_required({"AMAZING_ENV": "local"})
    assert authentication_required({"AMAZING_ENV": "docker"})
    assert authentication_required({"AMAZING_ENV": "local", "AMAZING_APP_REQUIRE_AUTH": "true"})
    assert may_open(None, {"AMAZING_ENV": "local"})
    assert not may_open(None, {"AMAZING_ENV": "docker"})
    assert may_open("marketing", {"AMAZING_ENV": "docker"})


def test_sankey_sides_never_share_a_node_so_the_graph_is_acyclic():
    flows = pd.DataFrame(
        {
            "from_name": ["Champions", NEW, "Champions"],
            "to_name": ["Champions", "Dormant", GONE],
            "customers": [10, 3, 2],
        }
    )
    labelled = migration_labels(
        flows, {"Champions": "Champions"}, "2019-10", "2019-11", "new", "gone"
    )
    assert not set(labelled["source"]) & set(labelled["target"])
    assert labelled["customers"].sum() == 15
    assert previous_month(["2019-10", "2019-11"], "2019-11") == "2019-10"
    assert previous_month(["2019-10", "2019-11"], "2019-10") is None


def test_readers_never_invent_a_pseudonymisation_key(tmp_path):
    key_file = tmp_path / "secrets" / "pseudonymization.key"
    with pytest.raises(PseudonymizationKeyError, match=KEY_ENV_VAR):
        existing_key(key_file, {})
    assert not key_file.exists()
    key_file.parent.mkdir()
    key_file.write_text("k" * 64 + "\n")
    key_file.chmod(0o600)  # as the pipeline creates it (a key others can read is refused)
    assert existing_key(key_file, {}) == b"k" * 64
    assert existing_key(key_file, {KEY_ENV_VAR: "from-env-0123456789"}) == b"from-env-0123456789"


@pytest.mark.slow  # imports the whole app in a fresh interpreter
def test_the_app_never_imports_dagster():
    import subprocess
    import sys

    code = "import sys, panel_app.app; print('dagster' in sys.modules, 'pyspark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_one_change_sentence_per_segment_matched_by_name_across_months():
    from panel_app.changes import segment_changes

    history = pd.DataFrame(
        {
            "month": ["2019-10", "2019-10", "2019-11", "2019-11"],
            "segment": [0, 1, 1, 0],
            "name": ["Champions", "Dormant", "Champions", "At risk"],
            "name_fr": ["Champions", "Dormants", "Champions", "À risque"],
            "size": [100, 900, 120, 50],
            "revenue_share": [0.6, 0.0, 0.7, 0.3],
            "churn_risk": [0.1, float("nan"), 0.15, 0.8],
        }
    )
    sentences = dict(segment_changes(history, "2019-11", "2019-10", "en"))
    assert list(sentences) == ["Champions", "At risk"]  # biggest first, this month's only
    assert sentences["Champions"] == (
        "Champions: 120 customers (+20.0%), 70.0% of revenue (+10.0 pts), churn risk 15%."
    )
    assert "new segment this month" in sentences["At risk"]
    french = dict(segment_changes(history, "2019-11", "2019-10", "fr"))
    assert french["À risque"].startswith("À risque : 50 clients")
    first = dict(segment_changes(history, "2019-10", None, "en"))
    assert "new segment" not in first["Dormant"] and "churn" not in first["Dormant"]

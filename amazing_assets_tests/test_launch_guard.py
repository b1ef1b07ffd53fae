"""Security-relevant settings cannot be changed at launch (issue 14, "doors").

Before the guard, each run below succeeded: a launcher's run config could pseudonymise with a
key they chose, write the month to a warehouse of their choosing, or lower a quality gate.
"""

from pathlib import Path

import dagster as dg
import pytest

from amazing_assets.defs.ingestion.assets import raw_events
from amazing_assets.lib.launch_guard import LOCKED_RESOURCES, launch_overrides
from amazing_assets.lib.settings import load_settings
from amazing_assets.resources import build_resources

HEADER = (
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session"
)
ROW = (
    "2019-10-01 00:00:01 UTC,view,1,2053013552326770905,electronics.smartphone,acme,"
    "10.00,510000001,s1"
)


def test_only_deployment_owned_resources_are_refused() -> None:
    run_config = {
        "resources": {
            "pseudonymization_key": {"config": {"key": "a-key-the-launcher-knows"}},
            "modeling": {"config": {"k_max": 6}},  # a modelling choice, not a door
            "quality": {},  # present but empty: nothing set
        },
        "ops": {"raw_events": {"config": {}}},
    }
    assert list(launch_overrides(run_config)) == ["pseudonymization_key"]
    assert launch_overrides(None) == {} and launch_overrides({"loggers": {}}) == {}
    assert {"warehouse", "spark", "pseudonymization_key", "quality", "retention"} <= set(
        LOCKED_RESOURCES
    )


@pytest.mark.parametrize(
    ("resource", "config"),
    [
        ("warehouse", {"warehouse_uri": "ATTACKER"}),
        ("pseudonymization_key", {"key": "a-key-the-launcher-knows-0123456789"}),
        ("spark", {"master": "local[1]", "conf": {"spark.driver.extraJavaOptions": "-Dx=1"}}),
        ("quality", {"max_defective_share": 1.0}),
    ],
)
def test_a_run_whose_launch_config_sets_a_locked_setting_is_refused_before_any_work(
    tmp_path: Path, resource: str, config: dict
) -> None:
    landing, warehouse, attacker = (tmp_path / d for d in ("landing", "warehouse", "attacker"))
    (landing / "2019-10").mkdir(parents=True)
    (landing / "2019-10" / "october.csv").write_text(f"{HEADER}\n{ROW}\n")
    settings = load_settings(
        {
            "AMAZING_HOME": str(tmp_path / "home"),
            "AMAZING_LANDING": str(landing),
            "AMAZING_WAREHOUSE": str(warehouse),
        }
    )
    config = {k: (str(attacker) if v == "ATTACKER" else v) for k, v in config.items()}
    if resource == "warehouse":  # the resource's required fields come with the override
        config["landing_uri"] = str(landing)
    result = dg.materialize(
        [raw_events],
        partition_key="2019-10-01",
        resources=build_resources(settings),
        run_config={"resources": {resource: {"config": config}}},
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_failure)
    message = str(failure.event_specific_data.error)
    assert "security-relevant settings" in message and f"resources.{resource}" in message
    assert not attacker.exists()
    assert not (warehouse / "raw").exists()  # nothing of the month was written anywhere


def test_the_same_run_without_overrides_runs(tmp_path: Path, spark) -> None:
    landing = tmp_path / "landing"
    (landing / "2019-10").mkdir(parents=True)
    rows = "\n".join(ROW.replace("00:00:01", f"00:00:{i:02d}") for i in range(30))
    (landing / "2019-10" / "october.csv").write_text(f"{HEADER}\n{rows}\n")
    settings = load_settings(
        {
            "AMAZING_HOME": str(tmp_path / "home"),
            "AMAZING_LANDING": str(landing),
            "AMAZING_WAREHOUSE": str(tmp_path / "warehouse"),
        }
    )
    result = dg.materialize(
        [raw_events],
        partition_key="2019-10-01",
        resources=build_resources(settings),
        run_config={"resources": {"modeling": {"config": {"k_max": 6}}}},
        raise_on_error=False,
    )
    assert result.success
    assert result.asset_materializations_for_node("raw_events")[0].metadata["rows"].value == 30

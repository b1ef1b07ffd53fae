"""A launcher cannot read the code location's secrets through run config (issue 24, finding 1).

Dagster resolves ``{env: NAME}`` in any ``StringSource`` field of a run's config inside the run
process. Before the guard looked at every section of the config, ``request_file:
{env: AMAZING_PSEUDONYMIZATION_KEY}`` in the erasure op's config came back in the run failure
("no request file …/_erasure/<the key>"), stored in the run's event log. These runs use a real
Dagster instance on disk; the test then reads the instance's storage files byte by byte.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from amazing_assets.definitions import build_definitions
from amazing_assets.lib.launch_guard import env_sources
from amazing_assets.lib.settings import load_settings

SECRET_VARIABLES = ("AMAZING_PSEUDONYMIZATION_KEY", "AWS_SECRET_ACCESS_KEY")


@pytest.fixture
def secrets(monkeypatch) -> dict[str, str]:
    """Distinctive secret values, so any echo of them is found in storage."""
    values = {
        "AMAZING_PSEUDONYMIZATION_KEY": "key-5f3c9e1a7b2d4c6e8f0a1b3c5d7e9f11",
        "AWS_SECRET_ACCESS_KEY": "aws-secret-9d8c7b6a5f4e3d2c1b0a",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def stored_text(home: Path) -> bytes:
    """Every byte the Dagster instance wrote (run, event log, schedule storage, compute logs)."""
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


def definitions(tmp_path: Path) -> dg.Definitions:
    (tmp_path / "landing" / "_erasure").mkdir(parents=True)
    return build_definitions(
        load_settings(
            {
                "AMAZING_HOME": str(tmp_path / "home"),
                "AMAZING_LANDING": str(tmp_path / "landing"),
                "AMAZING_WAREHOUSE": str(tmp_path / "warehouse"),
            }
        )
    )


@pytest.mark.parametrize("variable", SECRET_VARIABLES)
def test_an_env_source_in_the_erasure_ops_config_is_refused_and_never_stored(
    tmp_path: Path, secrets: dict[str, str], variable: str
) -> None:
    defs = definitions(tmp_path)
    job = defs.get_job_def("erase_customers_job")
    source = {"request_file": {"env": variable}}
    run_config = {"ops": {"erase_requested_customers": {"config": source}}}
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
        result = job.execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False
        )
        assert not result.success
        failure = next(e for e in result.all_events if e.is_failure)
        message = str(failure.event_specific_data.error)
        assert "ops.erase_requested_customers.config.request_file" in message
        assert "environment" in message
        logs = " ".join(str(entry) for entry in instance.all_logs(result.run_id))
        assert secrets[variable] not in logs
        assert not any(e.is_step_start for e in result.all_events)  # refused before any op ran
    assert secrets[variable].encode() not in stored_text(dagster_home)


SOURCES_BY_JOB = {
    # An unlocked resource's integer field: before, the run took the variable's value.
    "monthly_segments": ("resources.modeling.config.seed", "AMAZING_SEED"),
    "erase_customers_job": ("ops.erase_requested_customers.config.request_file", "AMAZING_SEED"),
    "housekeeping_job": ("resources.warehouse.config.s3_region", "AWS_SECRET_ACCESS_KEY"),
}


def nested(path: str, value: object) -> dict:
    """``{"a": {"b": value}}`` from ``"a.b"``."""
    for part in reversed(path.split(".")):
        value = {part: value}
    return value  # type: ignore[return-value]


def test_every_job_refuses_env_sources(tmp_path: Path, secrets, monkeypatch) -> None:
    """Each job of the code location, with an env source in a field Dagster would resolve."""
    monkeypatch.setenv("AMAZING_SEED", "7")
    defs = definitions(tmp_path)
    jobs = {j.name: j for j in defs.resolve_all_job_defs() if not j.name.startswith("__")}
    assert set(jobs) == set(SOURCES_BY_JOB)  # a new job gets a case here
    for name, (path, variable) in SOURCES_BY_JOB.items():
        job = jobs[name]
        run_config = nested(path, {"env": variable})
        if path.startswith("resources.warehouse."):  # with the resource's required fields
            run_config["resources"]["warehouse"]["config"].update(
                warehouse_uri=str(tmp_path / "w"), landing_uri=str(tmp_path / "l")
            )
        result = job.execute_in_process(
            run_config=run_config,
            raise_on_error=False,
            partition_key="2019-10-01" if job.partitions_def else None,
        )
        assert not result.success, name
        assert not any(e.is_step_start for e in result.all_events), name
        message = str(next(e for e in result.all_events if e.is_failure).event_specific_data)
        assert path in message and "environment" in message, name


def test_every_step_of_every_job_goes_through_the_guard(tmp_path: Path) -> None:
    """The guard runs at the setup of deployment resources: every job must require one.

    With the in-process executor all of a run's resources are set up before its first step, so
    one guarded resource per job is enough; a job without any would run unguarded.
    """
    from amazing_assets.lib.launch_guard import DeploymentIOManager, DeploymentResource

    defs = definitions(tmp_path)
    resources = defs.resources or {}
    guarded = {
        key
        for key, resource in resources.items()
        if isinstance(resource, DeploymentResource | DeploymentIOManager)
    }
    assert defs.executor is dg.in_process_executor
    for job in defs.resolve_all_job_defs():
        required = {key for node in job.nodes for key in node.definition.required_resource_keys}
        required |= {
            output.io_manager_key for node in job.nodes for output in node.definition.output_defs
        }
        assert required & guarded, f"job {job.name} requires no guarded resource"


def test_env_sources_are_found_at_any_depth() -> None:
    run_config = {
        "ops": {"a": {"config": {"x": {"env": "K"}, "y": [1, {"env": "L"}]}}},
        "resources": {"r": {"config": {"nested": {"deeper": {"env": "M"}}}}},
        "loggers": {"console": {"config": {"log_level": "INFO"}}},
    }
    assert env_sources(run_config) == [
        "ops.a.config.x",
        "ops.a.config.y[1]",
        "resources.r.config.nested.deeper",
    ]
    assert env_sources({"ops": {"a": {"config": {"env": "literal", "other": 1}}}}) == []
    assert env_sources(None) == []


@pytest.mark.parametrize(
    "name",
    [
        "missing-7c1e4b.json",  # not there
        "../private-7c1e4b.json",  # outside the folder
        "no-extension-7c1e4b",  # not a request name
        "broken-7c1e4b.json",  # there, not JSON
        "list-7c1e4b.json",  # there, JSON of the wrong shape
    ],
)
def test_no_erasure_message_echoes_the_request_file_it_was_given(tmp_path: Path, name: str) -> None:
    """Messages name the config field, not its value (the class behind the key's echo)."""
    defs = definitions(tmp_path)
    (tmp_path / "landing" / "_erasure" / "broken-7c1e4b.json").write_bytes(b"\xff{not json")
    (tmp_path / "landing" / "_erasure" / "list-7c1e4b.json").write_text("[1, 2]")
    result = defs.get_job_def("erase_customers_job").execute_in_process(
        run_config={"ops": {"erase_requested_customers": {"config": {"request_file": name}}}},
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    text = " ".join(str(e) for e in result.all_events)
    assert "request_file" in str(failure.event_specific_data.error)
    assert "7c1e4b" not in text

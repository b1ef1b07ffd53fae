"""Configuration errors fail before any work, naming the setting to fix."""

import dagster as dg
import pytest

from amazing_assets.definitions import defs
from amazing_assets.lib.key_resource import PseudonymizationKeyResource
from amazing_assets.lib.pseudonymize import PseudonymizationKeyError
from amazing_assets.lib.settings import SettingsError, load_settings


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "AMAZING_WAREHOUSE",
            "ftp://host/dir",
            "AMAZING_WAREHOUSE='ftp://host/dir' has unsupported scheme",
        ),
        ("AMAZING_LANDING", "s3://", "AMAZING_LANDING='s3://' has no bucket"),
        ("AMAZING_FEATURE_WINDOW_MONTHS", "three", "AMAZING_FEATURE_WINDOW_MONTHS='three'"),
        ("AMAZING_ENV", "prod", "AMAZING_ENV='prod' is not one of"),
    ],
)
def test_bad_settings_name_the_variable(variable, value, message):
    with pytest.raises(SettingsError, match=message):
        load_settings({variable: value})


def test_deployments_must_set_the_storage_explicitly():
    with pytest.raises(
        SettingsError, match="AMAZING_WAREHOUSE must be set when AMAZING_ENV=docker"
    ):
        load_settings({"AMAZING_ENV": "docker"})


def test_missing_key_outside_the_embedded_default_names_the_variable(monkeypatch):
    monkeypatch.delenv("AMAZING_PSEUDONYMIZATION_KEY", raising=False)
    with pytest.raises(PseudonymizationKeyError, match="AMAZING_PSEUDONYMIZATION_KEY is not set"):
        PseudonymizationKeyResource(key=None, local_key_file=None).key_bytes()


def test_the_embedded_default_creates_a_private_key_file_once(tmp_path, monkeypatch):
    monkeypatch.delenv("AMAZING_PSEUDONYMIZATION_KEY", raising=False)
    path = tmp_path / "secrets" / "pseudonymization.key"
    first = PseudonymizationKeyResource(local_key_file=str(path)).key_bytes()
    assert path.stat().st_mode & 0o777 == 0o600
    assert PseudonymizationKeyResource(local_key_file=str(path)).key_bytes() == first


def test_a_bad_partition_key_is_refused_before_running():
    job = defs.resolve_job_def("monthly_segments")
    with pytest.raises(dg.DagsterUnknownPartitionError, match="2019-13-01"):
        job.execute_in_process(partition_key="2019-13-01", instance=dg.DagsterInstance.ephemeral())

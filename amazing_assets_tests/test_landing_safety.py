"""Doors of the landing zone and the key file (issue 14): links, odd folders, key exposure."""

from __future__ import annotations

import os

import pytest

from amazing_assets.defs.ingestion.landing import LandingFormatError, list_month_files
from amazing_assets.defs.ingestion.sensors import landing_listing
from amazing_assets.lib.pseudonymize import (
    PseudonymizationKeyError,
    existing_key,
    load_or_create_key_file,
)
from amazing_assets.lib.settings import SettingsError, load_settings
from amazing_assets.lib.storage import Location

HEADER = (
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n"
)


def test_a_linked_export_is_refused_and_its_target_never_read(tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    month = tmp_path / "landing" / "2019-10"
    month.mkdir(parents=True)
    (month / "events.csv").symlink_to(secret)
    with pytest.raises(LandingFormatError, match="symbolic link") as error:
        list_month_files(Location.parse(str(tmp_path / "landing")), "2019-10")
    assert "root:x" not in str(error.value)


def test_a_linked_month_folder_is_refused(tmp_path):
    real = tmp_path / "elsewhere"
    real.mkdir()
    (real / "events.csv").write_text(HEADER)
    (tmp_path / "landing").mkdir()
    (tmp_path / "landing" / "2019-10").symlink_to(real, target_is_directory=True)
    with pytest.raises(LandingFormatError, match="folder 2019-10/ is a symbolic link"):
        list_month_files(Location.parse(str(tmp_path / "landing")), "2019-10")


def test_exports_outside_valid_month_folders_are_reported_not_silently_ignored(tmp_path):
    landing = tmp_path / "landing"
    for folder in ("2019-10", "2019-13", "oct-2019", "_ground_truth"):
        (landing / folder).mkdir(parents=True)
        (landing / folder / "events.csv").write_text(HEADER)
    (landing / "loose.csv").write_text(HEADER)
    (landing / "2019-10" / "link.csv").symlink_to(landing / "2019-10" / "events.csv")
    months, ignored = landing_listing(Location.parse(str(landing)))
    assert list(months) == ["2019-10"] and list(months["2019-10"]) == ["events.csv"]
    assert ignored == [
        "2019-10/link.csv (a symbolic link; copy the export itself)",
        "2019-13/events.csv (not in a YYYY-MM month folder)",
        "loose.csv (not in a YYYY-MM month folder)",
        "oct-2019/events.csv (not in a YYYY-MM month folder)",
    ]


def test_a_key_file_readable_by_others_is_refused(tmp_path):
    key = tmp_path / "secrets" / "pseudonymization.key"
    first = load_or_create_key_file(key)
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert existing_key(key, environ={}) == first
    os.chmod(key, 0o644)
    for read in (lambda: load_or_create_key_file(key), lambda: existing_key(key, environ={})):
        with pytest.raises(PseudonymizationKeyError, match="chmod 600"):
            read()


def test_a_key_file_inside_the_warehouse_is_refused(tmp_path):
    home = tmp_path / "home"
    with pytest.raises(SettingsError, match="contains the pseudonymisation key"):
        load_settings({"AMAZING_HOME": str(home), "AMAZING_WAREHOUSE": str(home)})
    load_settings({"AMAZING_HOME": str(home)})  # the default layout keeps them apart

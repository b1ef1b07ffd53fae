"""The key file is refused inside the warehouse (or landing zone) whatever form the URI takes.

Before (issue 24, finding 7) the check called ``Path()`` on the URI, so ``file:///…/home``
became the relative path ``file:/…/home`` and a warehouse holding the key passed. Every form
:meth:`Location.parse` accepts is tried here, on real folders and symlinks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from amazing_assets.lib.settings import SettingsError, load_settings


def forms(home: Path, cwd: Path, fake_home: Path, link: Path) -> dict[str, str]:
    """The same folder (``home``, which holds ``secrets/pseudonymization.key``) written 9 ways."""
    return {
        "plain": str(home),
        "trailing_slash": f"{home}/",
        "file_uri": home.as_uri(),
        "file_uri_trailing_slash": f"{home.as_uri()}/",
        "file_localhost": f"file://localhost{home}",
        "relative": str(home.relative_to(cwd)),
        "dot_segments": f"{home}/secrets/..",
        "tilde": "~/" + str(home.relative_to(fake_home)),
        "symlink": str(link),
        "file_uri_symlink": link.as_uri(),
    }


@pytest.mark.parametrize(
    "form",
    [
        "plain",
        "trailing_slash",
        "file_uri",
        "file_uri_trailing_slash",
        "file_localhost",
        "relative",
        "dot_segments",
        "tilde",
        "symlink",
        "file_uri_symlink",
    ],
)
@pytest.mark.parametrize("setting", ["AMAZING_WAREHOUSE", "AMAZING_LANDING"])
def test_a_warehouse_holding_the_key_is_refused_in_every_uri_form(
    tmp_path: Path, monkeypatch, form: str, setting: str
) -> None:
    home = tmp_path / "user" / "amazing"
    (home / "secrets").mkdir(parents=True)
    link = tmp_path / "link-to-amazing"
    link.symlink_to(home, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    uri = forms(home, tmp_path, tmp_path / "user", link)[form]
    other = "AMAZING_LANDING" if setting == "AMAZING_WAREHOUSE" else "AMAZING_WAREHOUSE"
    with pytest.raises(SettingsError, match="contains the pseudonymisation key"):
        load_settings({"AMAZING_HOME": str(home), setting: uri, other: str(tmp_path / "o")})


def test_the_key_reached_through_a_symlinked_home_is_refused(tmp_path: Path) -> None:
    """The key's own path goes through a link into the warehouse."""
    warehouse = tmp_path / "warehouse"
    (warehouse / "secrets").mkdir(parents=True)
    home = tmp_path / "home-link"
    home.symlink_to(warehouse, target_is_directory=True)
    with pytest.raises(SettingsError, match="contains the pseudonymisation key"):
        load_settings({"AMAZING_HOME": str(home), "AMAZING_WAREHOUSE": warehouse.as_uri()})


@pytest.mark.parametrize(
    "warehouse",
    ["{tmp}/warehouse", "file://{tmp}/warehouse/", "{tmp}/home-sibling", "s3://bucket/prefix"],
)
def test_warehouses_beside_the_key_are_accepted(tmp_path: Path, warehouse: str) -> None:
    home = tmp_path / "home"
    settings = load_settings(
        {"AMAZING_HOME": str(home), "AMAZING_WAREHOUSE": warehouse.format(tmp=tmp_path)}
    )
    assert settings.warehouse_uri == warehouse.format(tmp=tmp_path)

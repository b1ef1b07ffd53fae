"""Who may open the app: anyone on the embedded demo, authenticated users everywhere else.

Authentication itself is Panel's (``--basic-auth`` or ``--oauth-provider`` on ``panel serve``,
or the matching ``PANEL_*`` variables); this module only refuses to show data when a deployment
forgot to turn it on, instead of silently publishing customer segments.
"""

from __future__ import annotations

from amazing_assets.lib.settings import Environ, app_authentication_forced, environment_name


def authentication_required(environ: Environ | None = None) -> bool:
    """True outside the embedded demo (``AMAZING_ENV`` other than ``local``).

    ``AMAZING_APP_REQUIRE_AUTH=true`` turns it on for a local install too (a shared laptop).
    """
    return app_authentication_forced(environ) or environment_name(environ) != "local"


def may_open(user: str | None, environ: Environ | None = None) -> bool:
    """``user`` is Panel's authenticated user (``pn.state.user``), None without authentication."""
    return bool(user) or not authentication_required(environ)

"""A month's audiences: every segment's customers, each marked ``target`` or ``control``.

Built by the pipeline for every segment of every month (the asset ``audience_exports``), not by
the app when a marketer clicks: the app's storage user may only read, and a record made by the
pipeline is the same whoever downloads it, however often. The app serves these rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pandas as pd

from amazing_assets.defs.measurement.holdout import (
    CONTROL,
    DEFAULT_CONTROL_SHARE,
    TARGET,
    assign_groups,
    check_share,
    export_id,
    export_seed,
)

AUDIENCE_COLUMNS = [
    "export_id",
    "month",
    "segment",
    "segment_name",
    "segment_name_fr",
    "action",
    "action_fr",
    "channel",
    "control_share",
    "user_key",
    "group",
]
LOG_COLUMNS = [
    "export_id",
    "month",
    "segment",
    "segment_name",
    "segment_name_fr",
    "action",
    "action_fr",
    "channel",
    "control_share",
    "seed",
    "customers",
    "targets",
    "controls",
    "created_at",
]


def share_for(segment: int, default: float, shares: Mapping[str, float]) -> float:
    """The segment's control share: its own when set (keys are segment numbers as text)."""
    return check_share(shares.get(str(segment), default))


def build_audiences(
    month: str,
    assignments: pd.DataFrame,
    profiles: pd.DataFrame,
    default_share: float = DEFAULT_CONTROL_SHARE,
    shares: Mapping[str, float] | None = None,
    created_at: datetime | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(one row per exported customer, one log row per export) for ``month``.

    ``assignments``: ``user_key``, ``segment``; ``profiles``: the month's ``cluster_profiles``
    (``segment``, ``name``, ``name_fr``, ``offer``, ``offer_fr``, ``channel``).
    """
    shares = shares or {}
    unknown = set(shares) - {str(s) for s in profiles["segment"]}
    if unknown:
        raise ValueError(f"control shares set for segments {sorted(unknown)} absent in {month}")
    created = (created_at or datetime.now(UTC)).isoformat()
    audiences, log = [], []
    for profile in profiles.sort_values("segment").itertuples():
        segment = int(profile.segment)
        keys = assignments.loc[assignments["segment"] == segment, "user_key"]
        keys = keys.sort_values().reset_index(drop=True)
        share = share_for(segment, default_share, shares)
        seed = export_seed(month, segment)
        groups = assign_groups(seed, keys, share)
        described = {
            "export_id": export_id(month, segment),
            "month": month,
            "segment": segment,
            "segment_name": profile.name,
            "segment_name_fr": getattr(profile, "name_fr", profile.name),
            "action": profile.offer,
            "action_fr": getattr(profile, "offer_fr", profile.offer),
            "channel": profile.channel,
            "control_share": share,
        }
        audiences.append(pd.DataFrame({**described, "user_key": keys, "group": groups}))
        controls = int((groups == CONTROL).sum())
        log.append(
            {
                **described,
                "seed": seed,
                "customers": len(keys),
                "targets": int((groups == TARGET).sum()),
                "controls": controls,
                "created_at": created,
            }
        )
    rows = pd.concat(audiences, ignore_index=True) if audiences else pd.DataFrame()
    return rows.reindex(columns=AUDIENCE_COLUMNS), pd.DataFrame(log, columns=LOG_COLUMNS)

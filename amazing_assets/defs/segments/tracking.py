"""One month's segments with their identity (no Dagster, no Spark): what the assets compute.

:func:`identify` takes a month's fitted labels and last month's identified segments and returns
the ids, the names (kept through identity while still true), the definition changes and the
assignments with ``segment_id``. ``kmeans_model`` and ``cluster_profiles`` call the same pieces;
the identity benchmark and tests call :func:`identify` on :func:`chain.segment_month`'s output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from amazing_assets.defs.segments.chain import profile_stage
from amazing_assets.defs.segments.identity import (
    SEGMENT_ID,
    Identity,
    definition_changes,
    kept_names,
    match_segments,
)


@dataclass
class IdentifiedMonth:
    identity: Identity
    assignments: pd.DataFrame  # user_key, segment, segment_id
    profiles: pd.DataFrame  # described, with segment_id and the definition-change columns


def with_identity(profiles: pd.DataFrame, identity: Identity, previous: pd.DataFrame | None):
    """Profiles plus ``segment_id`` and how the definition moved since last month."""
    out = profiles.copy()
    out[SEGMENT_ID] = identity.column(out["segment"])
    changes = definition_changes(out, previous, identity.overlap)
    return out.merge(changes, on="segment", how="left")


def identify(
    features: pd.DataFrame,
    labels: np.ndarray,
    previous: IdentifiedMonth | None,
) -> IdentifiedMonth:
    """Match this month's segments to ``previous``'s, then name and profile them."""
    assignments = pd.DataFrame({"user_key": features["user_key"].to_numpy(), "segment": labels})
    previous_profiles = previous.profiles if previous else None
    # Centre fallback needs this month's z-profiles before naming.
    bare = profile_stage(features, labels) if previous is not None else None
    identity = match_segments(
        previous.assignments if previous else None, assignments, previous_profiles, bare
    )
    kept = kept_names(identity.ids, previous_profiles)
    profiles = profile_stage(features, labels, kept=kept)
    assignments[SEGMENT_ID] = identity.column(labels)
    return IdentifiedMonth(
        identity, assignments, with_identity(profiles, identity, previous_profiles)
    )

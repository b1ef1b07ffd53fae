"""Which exported customers are held out as a control group: deterministic, keyed, per export.

A customer's group is decided by a keyed hash (HMAC-SHA256, keyed with the export's seed) of
their pseudonymous key, read as a number in [0, 1) and compared with the control share. So:

* the same export (same seed) gives every customer the same group however often it is
  re-exported, and a larger share keeps every earlier control in the control group (nested);
* two exports (two seeds: another month or another segment) draw independent groups, so no
  customer is held out of every campaign by construction;
* nobody can steer a customer into a group without the seed, and the groups depend on nothing
  the customers did (no selection bias).

No Dagster, no Spark: the asset and the tests call these functions directly.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import numpy as np

DEFAULT_CONTROL_SHARE = 0.10
TARGET, CONTROL = "target", "control"
_SCALE = float(2**64)


def export_seed(month: str, segment: int | str) -> str:
    """The seed of a month's export of one segment (the month and the segment, nothing else)."""
    return f"holdout/{month}/segment-{segment}"


def export_id(month: str, segment: int | str) -> str:
    """A readable, stable id: the same export keeps its id when it is re-materialised."""
    digest = hashlib.sha256(export_seed(month, segment).encode()).hexdigest()[:8]
    return f"{month}-s{segment}-{digest}"


def holdout_scores(seed: str, user_keys: Iterable[str]) -> np.ndarray:
    """Each key's uniform score in [0, 1): the first 8 bytes of HMAC-SHA256(seed, key)."""
    key = seed.encode()
    return np.fromiter(
        (
            int.from_bytes(hmac.new(key, k.encode(), hashlib.sha256).digest()[:8], "big") / _SCALE
            for k in user_keys
        ),
        dtype=np.float64,
    )


def check_share(share: float) -> float:
    """A control share must leave both groups possible: strictly between 0 and 1."""
    if not 0 < share < 1:
        raise ValueError(f"control share {share!r} must be strictly between 0 and 1")
    return float(share)


def assign_groups(seed: str, user_keys: Iterable[str], share: float) -> np.ndarray:
    """``control`` for a score below ``share``, ``target`` otherwise (an array of str)."""
    scores = holdout_scores(seed, user_keys)
    return np.where(scores < check_share(share), CONTROL, TARGET)

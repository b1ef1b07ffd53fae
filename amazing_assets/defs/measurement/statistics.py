"""Intervals and sample sizes for target-versus-control comparisons (pure, no Dagster).

* Proportions (purchase rate): Wilson score intervals per group, and Newcombe's hybrid score
  interval for the difference (Newcombe 1998, method 10). Unlike the Wald interval it keeps its
  coverage near 95 % for small groups and rates near 0, which is where campaign data lives.
* Means per customer (orders, revenue, zeros included): Welch's t interval for the difference,
  which does not assume equal variances (a campaign changes the spread as well as the mean).
* Power: the control size needed to detect a given absolute difference of purchase rate, for
  the export's split between targets and controls (Fleiss' formula for unequal groups).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

DEFAULT_CONFIDENCE = 0.95
DEFAULT_POWER = 0.80
MIN_CONTROLS = 50
"""Below this, no interval is reported whatever the power calculation says: a handful of
controls makes the normal approximations behind Welch's interval meaningless."""


@dataclass(frozen=True)
class Difference:
    """``estimate`` (target minus control) with its interval ``[low, high]``."""

    estimate: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def covers(self, value: float) -> bool:
        return self.low <= value <= self.high

    def scaled(self, factor: float) -> Difference:
        return Difference(self.estimate * factor, self.low * factor, self.high * factor)


def z_value(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def wilson_interval(
    successes: int, n: int, confidence: float = DEFAULT_CONFIDENCE
) -> tuple[float, float]:
    """Wilson's score interval of a proportion (``(0, 1)`` for an empty group)."""
    if n <= 0:
        return 0.0, 1.0
    z = z_value(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion_difference(
    x_target: int,
    n_target: int,
    x_control: int,
    n_control: int,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Difference:
    """Newcombe's hybrid score interval of ``x_target/n_target - x_control/n_control``."""
    p1, p2 = x_target / n_target, x_control / n_control
    l1, u1 = wilson_interval(x_target, n_target, confidence)
    l2, u2 = wilson_interval(x_control, n_control, confidence)
    d = p1 - p2
    return Difference(
        d,
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def welch_difference(
    mean_target: float,
    var_target: float,
    n_target: int,
    mean_control: float,
    var_control: float,
    n_control: int,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Difference:
    """Welch's t interval of a difference of means (sample variances, ddof=1)."""
    d = mean_target - mean_control
    a, b = var_target / n_target, var_control / n_control
    se = math.sqrt(a + b)
    if se == 0:  # both groups constant (nobody bought in either): the difference is exact
        return Difference(d, d, d)
    df = (a + b) ** 2 / (
        (a * a / (n_target - 1) if n_target > 1 else 0.0)
        + (b * b / (n_control - 1) if n_control > 1 else 0.0)
        or 1e-300
    )
    half = float(stats.t.ppf(0.5 + confidence / 2, df)) * se
    return Difference(d, d - half, d + half)


def controls_needed(
    base_rate: float,
    minimum_effect: float,
    control_share: float,
    confidence: float = DEFAULT_CONFIDENCE,
    power: float = DEFAULT_POWER,
) -> int:
    """Controls needed to detect a rise of ``minimum_effect`` (absolute) over ``base_rate``.

    Two-sided test at ``1 - confidence``, with ``power``, when the export holds
    ``(1 - control_share) / control_share`` targets per control. Never below
    :data:`MIN_CONTROLS`.
    """
    if minimum_effect <= 0:
        raise ValueError("the minimum detectable effect must be positive")
    k = (1 - control_share) / control_share  # targets per control
    p0 = min(max(base_rate, 0.0), 1.0)
    p1 = min(p0 + minimum_effect, 1.0)
    effect = p1 - p0
    if effect <= 0:  # a base rate of 1 leaves no room for a rise
        return MIN_CONTROLS
    pooled = (p0 + k * p1) / (1 + k)
    z_alpha, z_beta = z_value(confidence), float(stats.norm.ppf(power))
    numerator = z_alpha * math.sqrt(pooled * (1 - pooled) * (1 + 1 / k)) + z_beta * math.sqrt(
        p0 * (1 - p0) + p1 * (1 - p1) / k
    )
    return max(MIN_CONTROLS, math.ceil((numerator / effect) ** 2))

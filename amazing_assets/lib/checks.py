"""Asset checks, one module per stage: specs declared with the assets, results built here."""

import dagster as dg

from amazing_assets.lib.partitions import monthly_partitions


def spec(name: str, asset: str, description: str, *, blocking: bool = False) -> dg.AssetCheckSpec:
    """A monthly partitioned check spec (results are shown per month in the UI)."""
    return dg.AssetCheckSpec(
        name,
        asset=asset,
        description=description,
        blocking=blocking,
        partitions_def=monthly_partitions,
    )


def result(
    asset: str,
    name: str,
    passed: bool,
    metadata: dict,
    *,
    warn: bool = False,
    description: str | None = None,
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=name,
        passed=bool(passed),
        severity=dg.AssetCheckSeverity.WARN if warn else dg.AssetCheckSeverity.ERROR,
        metadata={
            k: (dg.MetadataValue.json(v) if isinstance(v, dict | list) else v)
            for k, v in metadata.items()
        },
        description=description,
    )


def relative_change(now: float, before: float | None) -> float | None:
    if before is None or before == 0:
        return None
    return (now - before) / before


def complete_window_spec(asset: str) -> dg.AssetCheckSpec:
    return spec(
        "complete_window",
        asset,
        "every month of the trailing window has clean events (warning: partial results)",
    )


def complete_window_result(asset: str, window_gaps: dict[str, list[str]]) -> dg.AssetCheckResult:
    """WARN when a month's trailing window lacks clean events for some of its months."""
    gaps = {m: g for m, g in window_gaps.items() if g}
    return result(
        asset,
        "complete_window",
        not gaps,
        {"missing_window_months": window_gaps},
        warn=True,
        description=None
        if not gaps
        else "partial: no clean events for "
        + "; ".join(f"{m}'s window lacks {g}" for m, g in gaps.items())
        + ". Materialise the missing months, then re-run these.",
    )

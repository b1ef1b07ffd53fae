"""Asset checks, one module per stage: specs declared with the assets, results built here."""

import dagster as dg

from amazing_assets.partitions import monthly_partitions


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

"""``pca_embedding`` and ``kmeans_model``: scikit-learn on the per-user table, per month."""

from typing import Any

import dagster as dg
import numpy as np
import pandas as pd
from sklearn.metrics import silhouette_score

from amazing_assets.defs.segments.chain import embed_stage, segment_stage
from amazing_assets.defs.segments.checks import (
    KMEANS_CHECK_SPECS,
    PCA_CHECK_SPECS,
    kmeans_results,
    pca_results,
)
from amazing_assets.defs.segments.identity import SEGMENT_ID, identity_table, match_segments
from amazing_assets.defs.segments.modeling import (
    TIER_COLUMN,
    TIER_NAMES,
    bootstrap_stability,
    component_names,
    loadings,
    sample_rows,
    segment_pipeline,
    tier_agreement,
)
from amazing_assets.defs.segments.outcomes import (
    OUTCOME_TABLE,
    SEGMENTED_OUTCOME,
    Outcome,
    segmentation_outcome,
)
from amazing_assets.defs.segments.plots import scree_plot, selection_plot
from amazing_assets.defs.segments.quality import empty_quality_tables, segmentation_quality
from amazing_assets.defs.segments.resources import ModelingResource
from amazing_assets.lib.asset_options import (
    markdown_table,
    monthly_asset_options,
    retry_only_transient,
    run_months,
)
from amazing_assets.lib.delta_tables import read_months, table_exists
from amazing_assets.lib.model_io_manager import ModelOutput, MonthlyModels
from amazing_assets.lib.months import add_months
from amazing_assets.lib.quality import QualityResource
from amazing_assets.lib.spark import SparkResource
from amazing_assets.lib.warehouse import WarehouseResource

PCA_ROW_COLUMNS = ("month", "customers", "status", "components", "explained_variance")
COORDINATES = "coordinates"
ASSIGNMENTS = "assignments"
SELECTION = "model_selection"
IDENTITY = "identity"


def stored_assignments(warehouse: WarehouseResource, month: str) -> pd.DataFrame | None:
    """A month's stored ``kmeans_model/assignments`` (``segment_id`` = ``segment`` for months
    stored before segments had an identity), or None."""
    location = warehouse.table(f"kmeans_model/{ASSIGNMENTS}")
    if not table_exists(location):
        return None
    frame = read_months(location, [month]).to_pandas()
    if not len(frame):
        return None
    if SEGMENT_ID not in frame or frame[SEGMENT_ID].isna().all():
        frame[SEGMENT_ID] = frame["segment"]
    return frame[["user_key", "segment", SEGMENT_ID]]


def empty_segment_tables() -> dict[str, pd.DataFrame]:
    """``kmeans_model``'s tables with no row, typed as a segmented month's are."""
    return {
        ASSIGNMENTS: pd.DataFrame(
            {
                "user_key": pd.Series(dtype=object),
                "segment": pd.Series(dtype="int32"),
                "distance": pd.Series(dtype="float64"),
            }
        ),
        **empty_quality_tables(),
    }


def selection_silhouette(Z: np.ndarray, labels: np.ndarray, config) -> float:
    """Silhouette of the final segments on the fixed selection sample (the quality floor)."""
    rows = sample_rows(len(Z), config.score_sample, config.seed + 1)
    if len(np.unique(labels[rows])) < 2:
        return 0.0
    return float(silhouette_score(Z[rows], labels[rows]))


def month_rows(frame: pd.DataFrame, month: str) -> pd.DataFrame:
    return frame[frame["month"] == month].drop(columns="month").reset_index(drop=True)


def stored_outcome(output: ModelOutput) -> Outcome:
    """The outcome an upstream modelling asset stored for its month (segmented if none)."""
    return Outcome.from_frame(output.tables.get(OUTCOME_TABLE))


def not_segmented_output(outcome: Outcome, tables: dict[str, pd.DataFrame]) -> ModelOutput:
    """A month without a model: the outcome as the stored "model" (plain text skops trusts)
    and as a one-row table, and the asset's tables with no row for the month (a re-run of a
    month segmented before replaces its rows with none)."""
    marker = {"status": outcome.status, "reason": outcome.reason, "needed": outcome.needed}
    return ModelOutput(model=marker, tables={**tables, OUTCOME_TABLE: outcome.frame()})


def status_metadata(outcomes: dict[str, Outcome]) -> dict[str, Any]:
    """``status`` (of the run's last month) and, per month not done, why and what is needed."""
    latest = outcomes[max(outcomes)]
    metadata: dict[str, Any] = {"status": latest.status}
    if not latest.segmented:
        metadata["reason"] = latest.reason
        metadata["needed"] = latest.needed
    undone = {m: o.sentence() for m, o in outcomes.items() if not o.segmented}
    if undone:
        metadata["not_segmented"] = dg.MetadataValue.json(undone)
    return metadata


@dg.asset(
    **monthly_asset_options(code_version="1"),
    io_manager_key="model_io_manager",
    kinds={"scikitlearn"},
    group_name="segments",
    check_specs=PCA_CHECK_SPECS,
)
@retry_only_transient
def pca_embedding(
    context: dg.AssetExecutionContext,
    user_features_rfm: pd.DataFrame,
    modeling: ModelingResource,
    quality: QualityResource,
    spark: SparkResource,
):
    """Customers placed in a low-dimensional behaviour space (scaled features → PCA)."""
    spark.release_when_done(context)
    config = modeling.config()
    rows: list[dict[str, Any]]  # one per month, mixed values (ints, floats, text)
    outputs, rows, outcomes = MonthlyModels(), [], {}
    for month in run_months(context):
        features = month_rows(user_features_rfm, month)
        outcome = outcomes[month] = segmentation_outcome(features, config)
        if not outcome.segmented:
            context.log.warning(f"pca_embedding {month}: {outcome.sentence()}")
            empty = pd.DataFrame(
                {"user_key": features["user_key"].iloc[:0], TIER_COLUMN: pd.Series(dtype="int8")}
            )
            outputs[month] = not_segmented_output(outcome, {COORDINATES: empty})
            rows.append({"month": month, "customers": len(features), "status": outcome.status})
            continue
        embedded = embed_stage(features, config)
        embedding = embedded.embedding
        columns = component_names(embedding)
        table = pd.DataFrame(embedded.Z, columns=columns).assign(
            user_key=features["user_key"], **{TIER_COLUMN: embedded.tier}
        )
        outputs[month] = ModelOutput(
            model=embedding,
            tables={
                COORDINATES: table[["user_key", *columns, TIER_COLUMN]],
                OUTCOME_TABLE: SEGMENTED_OUTCOME.frame(),
            },
        )
        explained = embedding.named_steps["pca"].explained_variance_ratio_.tolist()
        rows.append(
            {
                "month": month,
                "customers": len(features),
                "status": outcome.status,
                "components": len(columns),
                "explained_variance": round(sum(explained), 4),
            }
        )
        context.log.info(
            f"pca_embedding {month}: {len(columns)} components explain {sum(explained):.1%}"
        )
    metadata: dict[str, Any] = {
        "customers": sum(r["customers"] for r in rows),
        **status_metadata(outcomes),
        "per_month": dg.MetadataValue.md(markdown_table(rows, list(PCA_ROW_COLUMNS))),
    }
    segmented = [r for r in rows if r["status"] == SEGMENTED_OUTCOME.status]
    if segmented:
        last = outputs[segmented[-1]["month"]].model
        load = loadings(last).round(3).reset_index(names="feature")
        explained = last.named_steps["pca"].explained_variance_ratio_.tolist()
        metadata |= {
            "components": segmented[-1]["components"],
            "explained_variance": segmented[-1]["explained_variance"],
            "explained_variance_per_component": dg.MetadataValue.json(
                [round(v, 4) for v in explained]
            ),
            "loadings": dg.MetadataValue.md(
                markdown_table(load.to_dict("records"), list(load.columns))
            ),
            "scree_plot": scree_plot(explained),
        }
    yield dg.Output(outputs, metadata=metadata)
    yield from pca_results({r["month"]: r["explained_variance"] for r in segmented}, quality)


@dg.asset(
    # 2: the month's quality is stored for the app (quality, quality_tiers, quality_segments).
    **monthly_asset_options(code_version="2"),
    io_manager_key="model_io_manager",
    kinds={"scikitlearn"},
    group_name="segments",
    check_specs=KMEANS_CHECK_SPECS,
)
@retry_only_transient
def kmeans_model(
    context: dg.AssetExecutionContext,
    pca_embedding: MonthlyModels,
    user_features_rfm: pd.DataFrame,
    modeling: ModelingResource,
    quality: QualityResource,
    spark: SparkResource,
    warehouse: WarehouseResource,
):
    """Customer segments: K-Means per tier (non-buyers, buyers, high-basket buyers), k chosen per
    tier by a stability-filtered consensus of indices, stored as one skops pipeline; segments
    that behave exactly alike (the features tell) are merged into one. Each segment carries a
    ``segment_id`` matched to last month's segments (``identity.py``); the month's quality
    (silhouette, stability per segment, why this k) is stored for the app (``quality.py``)."""
    spark.release_when_done(context)
    config = modeling.config()
    rows: list[dict[str, Any]]  # one per segmented month, mixed values (ints, floats, text)
    last: dict[str, Any]
    outputs, rows, last, outcomes = MonthlyModels(), [], {}, {}
    months = run_months(context)
    previous = stored_assignments(warehouse, add_months(months[0], -1))
    for month in months:
        embedded = pca_embedding[month]
        outcome = outcomes[month] = stored_outcome(embedded)
        if not outcome.segmented:
            context.log.warning(f"kmeans_model {month}: {outcome.sentence()}")
            outputs[month] = not_segmented_output(outcome, empty_segment_tables())
            continue
        coordinates = embedded.tables[COORDINATES]
        # The month's own components: the stored table has the union over months (null beyond
        # a month's dimension), so never take "every column but the key".
        Z = coordinates[component_names(embedded.model)].to_numpy()
        tier = coordinates[TIER_COLUMN].to_numpy()
        features = month_rows(user_features_rfm, month).set_index("user_key")
        features = features.loc[coordinates["user_key"]].reset_index()  # Z's row order
        segmented = segment_stage(Z, tier, config, features)
        selection, kmeans, labels = segmented.selection, segmented.kmeans, segmented.labels
        k = kmeans.n_clusters  # below selection.k when twins were merged
        stability = bootstrap_stability(Z, tier, kmeans, selection, config)
        silhouette = selection_silhouette(Z, labels, config)
        shares = np.bincount(labels, minlength=k) / len(labels)
        assignments = pd.DataFrame(
            {
                "user_key": coordinates["user_key"],
                "segment": labels.astype("int32"),
                "distance": segmented.distances,
            }
        )
        identity = match_segments(previous, assignments)
        assignments[SEGMENT_ID] = identity.column(labels)
        previous = assignments
        agreement = tier_agreement(labels, tier, k)
        quality_tables = segmentation_quality(
            selection, labels, stability, silhouette, agreement, identity.ids
        )
        outputs[month] = ModelOutput(
            model=segment_pipeline(embedded.model, kmeans),
            tables={
                ASSIGNMENTS: assignments,
                SELECTION: selection.scores,
                IDENTITY: identity_table(identity),
                OUTCOME_TABLE: SEGMENTED_OUTCOME.frame(),
                **quality_tables,
            },
        )
        last = {
            "scores": selection.scores,
            "stability": stability,
            "shares": shares,
            "reasons": selection.reasons,
        }
        rows.append(
            {
                "month": month,
                "k": k,
                "twins_merged": segmented.merged,
                "action_splits": "; ".join(s.reason() for s in segmented.splits) or "-",
                "k_per_tier": " + ".join(f"{t.k} {TIER_NAMES[t.tier]}" for t in selection.tiers),
                "why_this_k": " | ".join(f"{t}: {r}" for t, r in selection.reasons.items()),
                "silhouette": round(silhouette, 4),
                "tier_agreement": round(agreement, 4),
                "min_stability": round(min(stability.values()), 4),
                "min_segment_share": round(float(shares.min()), 4),
                "identity": identity.method,
                "new_segment_ids": ", ".join(map(str, identity.new)) or "-",
                "ended_segment_ids": ", ".join(map(str, identity.ended)) or "-",
            }
        )
        context.log.info(
            f"kmeans_model {month}: k={k} ({rows[-1]['k_per_tier']}"
            + (f", {segmented.merged} twin(s) merged" if segmented.merged else "")
            + (f", {len(segmented.splits)} split(s) for actions" if segmented.splits else "")
            + "), "
            f"silhouette={silhouette:.3f}, min bootstrap Jaccard={min(stability.values()):.3f}; "
            f"why: {rows[-1]['why_this_k']}"
        )
    metadata: dict[str, Any] = status_metadata(outcomes)
    if rows:
        latest = rows[-1]
        metadata |= {
            **{k: v for k, v in latest.items() if k != "month"},
            "stability_by_segment": dg.MetadataValue.json(
                {str(k): round(v, 4) for k, v in last["stability"].items()}
            ),
            "share_by_segment": dg.MetadataValue.json(
                {str(i): round(float(s), 4) for i, s in enumerate(last["shares"])}
            ),
            "why_this_k": dg.MetadataValue.json(last["reasons"]),
            "scores_by_k": dg.MetadataValue.md(
                markdown_table(
                    last["scores"].round(4).to_dict("records"), list(last["scores"].columns)
                )
            ),
            "elbow_and_silhouette": selection_plot(last["scores"]),
            "per_month": dg.MetadataValue.md(markdown_table(rows, list(rows[0]))),
        }
    yield dg.Output(outputs, metadata=metadata)
    yield from kmeans_results(
        {r["month"]: r["silhouette"] for r in rows},
        {r["month"]: r["min_segment_share"] for r in rows},
        quality,
    )

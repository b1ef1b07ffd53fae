"""Robustness suite: segments on populations the model was never tuned on (issue 12).

Populations come from two generator families independent of the project's own:
:mod:`amazing_assets_tests.support.populations` (archetypes: each customer's counts drawn from
a behaviour's ranges) and :mod:`amazing_assets_tests.support.lifecycles` (processes in
continuous time: Gamma-heterogeneous visit rates, life-cycle stages, a calendar, channels).
For each: the k chosen per tier and why, the ARI against the planted behaviours,
the ARI of a naive K-Means on log RFM features given the *true* k (a reference, not a
competitor: it is told the answer), whether every segment's name is true by its definition, and
whether each behaviour's majority name is one a marketer would accept for it.

    python -m benchmarks.robustness                       # every population of both families
    python -m benchmarks.robustness --family lifecycles   # one family
    python -m benchmarks.robustness --only small-5k buyer-heavy

Writes ``benchmarks/results/robustness.json`` and ``robustness.md``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.preprocessing import StandardScaler

from amazing_assets.defs.segments.chain import SegmentedMonth, segment_month
from amazing_assets.defs.segments.modeling import ModelingConfig
from amazing_assets.defs.segments.profiles import MIN_NAME_PURITY, fits
from amazing_assets_tests.support import lifecycles
from amazing_assets_tests.support.lifecycles import LIFECYCLE_SUITE, simulate_lifecycles
from amazing_assets_tests.support.populations import (
    FITTING_NAMES,
    SUITE,
    PopulationSpec,
    per_user_features,
    simulate,
)
from benchmarks.run import RESULTS

GOALS = {"min_ari": 0.80, "median_ari": 0.90}


@dataclass
class PopulationScore:
    family: str
    name: str
    customers: int
    store: str
    noise: float
    k: int
    planted: int
    ari: float
    naive_ari: float
    false_names: list[str]
    impure_names: dict[str, float]  # named segments under the purity floor → purity
    min_purity: float  # lowest purity of a named segment (NaN: every name neutral)
    behaviour_names: dict[str, str]  # behaviour → majority segment name
    unfitting: list[str]  # behaviours whose majority name is not one that fits them
    reasons: dict[str, str]
    seconds: float

    def row(self) -> dict:
        return {
            "family": self.family,
            "population": self.name,
            "customers": self.customers,
            "store": self.store,
            "noise": self.noise,
            "planted": self.planted,
            "k": self.k,
            "ARI": round(self.ari, 3),
            "naive ARI (true k)": round(self.naive_ari, 3),
            "false names": len(self.false_names),
            "min purity": round(self.min_purity, 3),
            "names under 80 % pure": len(self.impure_names),
            "behaviours misnamed": ", ".join(self.unfitting) or "none",
            "seconds": round(self.seconds, 1),
        }


def naive_ari(features: pd.DataFrame, k: int, seed: int = 0) -> float:
    """K-Means with the true k on standardised log RFM + recency: what the issue compared with."""
    X = np.column_stack(
        [
            np.log1p(features[c].to_numpy(dtype=float))
            for c in ("frequency", "monetary", "avg_order_value", "n_views", "n_carts")
        ]
        + [features["recency_days"].to_numpy(dtype=float)]
    )
    labels = KMeans(k, n_init=4, random_state=seed).fit_predict(StandardScaler().fit_transform(X))
    return float(adjusted_rand_score(features["behaviour"], labels))


def false_names(segmented: SegmentedMonth) -> list[str]:
    """Names that do not hold by their own definition (the definitions' very code)."""
    return [str(p["name"]) for _, p in segmented.profiles.iterrows() if not fits(p, str(p["name"]))]


def impure_names(segmented: SegmentedMonth, floor: float = MIN_NAME_PURITY) -> dict[str, float]:
    """Named segments whose members are, each on their own, what the name says under ``floor``."""
    purity = segmented.profiles.set_index("name")["purity"].dropna()
    return {str(n): round(float(v), 3) for n, v in purity.items() if v < floor}


def behaviour_names(segmented: SegmentedMonth) -> dict[str, str]:
    names = segmented.profiles.set_index("segment")["name"]
    named = pd.Series(segmented.labels).map(names)
    truth = segmented.features["behaviour"].to_numpy()
    return {b: str(named[truth == b].value_counts().idxmax()) for b in sorted(set(truth))}


Spec = PopulationSpec | lifecycles.LifecycleSpec


def score(spec: Spec, config: ModelingConfig | None = None) -> PopulationScore:
    if isinstance(spec, lifecycles.LifecycleSpec):
        events = simulate_lifecycles(spec)
        return score_features(spec, per_user_features(events), config, "lifecycles")
    return score_features(spec, per_user_features(simulate(spec)), config)


def score_features(
    spec: Spec,
    features: pd.DataFrame,
    config: ModelingConfig | None = None,
    family: str = "archetypes",
) -> PopulationScore:
    fitting = lifecycles.FITTING_NAMES if family == "lifecycles" else FITTING_NAMES
    started = time.perf_counter()
    segmented = segment_month(features, config or ModelingConfig())
    seconds = time.perf_counter() - started
    by_behaviour = behaviour_names(segmented)
    planted = features["behaviour"].nunique()
    return PopulationScore(
        family=family,
        name=spec.name,
        customers=len(features),
        store=spec.store.name,
        noise=spec.noise,
        k=segmented.selection.k,
        planted=planted,
        ari=float(adjusted_rand_score(features["behaviour"], segmented.labels)),
        naive_ari=naive_ari(features, planted),
        false_names=false_names(segmented),
        impure_names=impure_names(segmented),
        min_purity=float(segmented.profiles["purity"].min()),
        behaviour_names=by_behaviour,
        unfitting=[b for b, n in by_behaviour.items() if n not in fitting[b]],
        reasons=segmented.selection.reasons,
        seconds=seconds,
    )


def markdown(scores: list[PopulationScore]) -> str:
    rows = [s.row() for s in scores]
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r[c]) for c in columns) + " |" for r in rows]
    lines.append("")
    for family in sorted({s.family for s in scores}):
        of = [s for s in scores if s.family == family]
        aris = [s.ari for s in of]
        lines.append(
            f"- **{family}**: ARI min {min(aris):.3f}, median {statistics.median(aris):.3f} "
            f"(goals: every population ≥ {GOALS['min_ari']}, median ≥ {GOALS['median_ari']}); "
            f"false names: {sum(len(s.false_names) for s in of)}; named segments under "
            f"{MIN_NAME_PURITY:.0%} purity: {sum(len(s.impure_names) for s in of)}."
        )
    lines += [
        "",
        "Names given to each planted behaviour (majority of its customers):",
        "",
    ]
    for s in scores:
        pairs = ", ".join(f"{b} → {n}" for b, n in s.behaviour_names.items())
        lines.append(f"- **{s.name}**: {pairs}")
    lines += ["", "Why this k (per tier):", ""]
    for s in scores:
        lines.append(f"- **{s.name}**: " + "; ".join(f"{t}: {r}" for t, r in s.reasons.items()))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="population names (default: all)")
    parser.add_argument("--family", choices=("archetypes", "lifecycles", "both"), default="both")
    parser.add_argument(
        "--split-for-actions", action="store_true", help="measure ModelingConfig's action splits"
    )
    args = parser.parse_args(argv)
    families: list[Spec] = []
    if args.family in ("archetypes", "both"):
        families += SUITE
    if args.family in ("lifecycles", "both"):
        families += LIFECYCLE_SUITE
    specs = [s for s in families if not args.only or s.name in args.only]
    scores = []
    for spec in specs:
        scores.append(score(spec, ModelingConfig(split_for_actions=args.split_for_actions)))
        print(json.dumps(scores[-1].row()), flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "robustness" if not args.only else "robustness-slice"
    name += "" if args.family == "both" or args.only else f"-{args.family}"
    name += "-action-splits" if args.split_for_actions else ""
    (RESULTS / f"{name}.md").write_text(markdown(scores))
    report = {
        "goals": GOALS,
        "min_ari": round(min(s.ari for s in scores), 4),
        "median_ari": round(statistics.median(s.ari for s in scores), 4),
        "false_names": sum(len(s.false_names) for s in scores),
        "impure_names": sum(len(s.impure_names) for s in scores),
        "populations": [
            {
                **s.row(),
                "impure_names": s.impure_names,
                "behaviour_names": s.behaviour_names,
                "reasons": s.reasons,
            }
            for s in scores
        ],
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(scores))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Segment identity across months (issue 25): do steady customers keep their segment?

For each population (three months of the same customers, rolling windows, from
:mod:`amazing_assets_tests.support.population_months`), every month is fitted as the pipeline
fits it, then segments are identified across months three ways:

* **today**: the customer's segment *name* (what ``segment_migration`` counted before issue 25);
* **overlap**: ``segment_id`` by member overlap (the pipeline's rule, ``identity.py``);
* **centres**: ``segment_id`` by nearest z-profile centre (the alternative);
* **floor**: last month's *model* applied to this month's features. A customer counted here
  crossed a boundary by their own features: no identity rule can keep them (it is the
  "reference model, refitted only when data drifts" option, and the lower bound of the others).

Per pair of months, among the customers present in both months whose planted behaviour did not
change: the share whose name / id changed, the floor, and ``id-only``: the share whose id changed
although last month's model keeps them in the same segment (changes due to the identity rule
itself). Plus ARI against the planted behaviours, and how much the definitions moved.

    python -m benchmarks.identity                 # every population of MONTHLY_SUITE
    python -m benchmarks.identity --only steady-three-months --customers 8000

Writes ``benchmarks/results/identity.json`` and ``identity.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from amazing_assets.defs.segments.chain import profile_stage, segment_month
from amazing_assets.defs.segments.identity import (
    SEGMENT_ID,
    Identity,
    first_ids,
    match_by_centres,
)
from amazing_assets.defs.segments.modeling import ModelingConfig, assign
from amazing_assets.defs.segments.tracking import IdentifiedMonth, identify
from amazing_assets_tests.support.population_months import MONTHLY_SUITE, simulate_months
from amazing_assets_tests.support.populations import PopulationSpec
from benchmarks.run import RESULTS


def _by_user(features: pd.DataFrame, values: np.ndarray, name: str) -> pd.Series:
    return pd.Series(np.asarray(values), index=features["user_key"].to_numpy(), name=name)


def run_population(
    spec: PopulationSpec, config: ModelingConfig, rolling: bool = True
) -> list[dict]:
    """One row per month (ARI, k, definitions) with the pair measures from the second on."""
    rows: list[dict] = []
    today_prev = None
    overlap_prev: IdentifiedMonth | None = None
    centres_prev: pd.DataFrame | None = None
    prev: dict = {}
    for as_of, features in simulate_months(spec, rolling=rolling):
        started = time.perf_counter()
        fitted = segment_month(features, config, today_prev.profiles if today_prev else None)
        seconds = time.perf_counter() - started
        labels = fitted.labels
        today_names = fitted.profiles.set_index("segment")["name"].loc[labels].to_numpy()
        tracked = identify(features, labels, overlap_prev)
        bare = profile_stage(features, labels)
        centres: Identity = (
            first_ids(sorted(int(s) for s in bare["segment"]))
            if centres_prev is None
            else match_by_centres(centres_prev, bare)
        )
        bare[SEGMENT_ID] = centres.column(bare["segment"])
        now = {
            "behaviour": _by_user(features, features["behaviour"], "behaviour"),
            "name": _by_user(features, today_names, "name"),
            "overlap": _by_user(features, tracked.assignments[SEGMENT_ID], "overlap"),
            "centres": _by_user(features, centres.column(labels), "centres"),
            "label": _by_user(features, labels, "label"),
        }
        changes = tracked.profiles
        row = {
            "population": spec.name + ("" if rolling else " (re-drawn)"),
            "month": as_of,
            "customers": len(features),
            "k": fitted.selection.k,
            "ARI": round(float(adjusted_rand_score(features["behaviour"], labels)), 3),
            "fit s": round(seconds, 1),
            "new ids": ", ".join(map(str, tracked.identity.new)) or "-",
            "ended ids": ", ".join(map(str, tracked.identity.ended)) or "-",
            "renamed": int((changes["identity"] == "renamed").sum()),
            "max centre shift": round(float(changes["centre_shift"].max()), 3)
            if changes["centre_shift"].notna().any()
            else None,
            "min member overlap": round(float(changes["member_overlap"].min()), 3)
            if changes["member_overlap"].notna().any()
            else None,
        }
        if prev:
            common = prev["behaviour"].index.intersection(now["behaviour"].index)
            steady = common[
                prev["behaviour"].loc[common].to_numpy() == now["behaviour"].loc[common].to_numpy()
            ]
            floor_labels = _by_user(features, assign(prev["pipeline"], features)[0], "floor")
            crossed = floor_labels.loc[steady].to_numpy() != prev["label"].loc[steady].to_numpy()

            def changed(key: str, users=steady, a=prev, b=now) -> np.ndarray:
                return a[key].loc[users].to_numpy() != b[key].loc[users].to_numpy()

            row.update(
                {
                    "steady customers": len(steady),
                    "name changed (today)": round(float(changed("name").mean()), 4),
                    "id changed (overlap)": round(float(changed("overlap").mean()), 4),
                    "id changed (centres)": round(float(changed("centres").mean()), 4),
                    "floor (last model)": round(float(crossed.mean()), 4),
                    "id-only (overlap)": round(float((changed("overlap") & ~crossed).mean()), 4),
                    "all customers id changed": round(float(changed("overlap", common).mean()), 4),
                }
            )
        rows.append(row)
        print(json.dumps(row), flush=True)
        prev = {**now, "pipeline": fitted.pipeline}
        today_prev, overlap_prev, centres_prev = fitted, tracked, bare
    return rows


PAIR_COLUMNS = (
    "population",
    "month",
    "k",
    "ARI",
    "steady customers",
    "name changed (today)",
    "id changed (overlap)",
    "id changed (centres)",
    "floor (last model)",
    "id-only (overlap)",
    "renamed",
    "new ids",
    "ended ids",
    "max centre shift",
    "min member overlap",
)


def markdown(rows: list[dict]) -> str:
    columns = list(PAIR_COLUMNS)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="population names (default: all)")
    parser.add_argument("--customers", type=int, help="cap every population at this size")
    parser.add_argument(
        "--redraw", action="store_true", help="re-draw whole windows (no rolling overlap)"
    )
    args = parser.parse_args(argv)
    specs = [s for s in MONTHLY_SUITE if not args.only or s.name in args.only]
    if args.customers:
        specs = [replace(s, customers=min(s.customers, args.customers)) for s in specs]
    rows = [
        row for spec in specs for row in run_population(spec, ModelingConfig(), not args.redraw)
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "identity" if not (args.only or args.customers) else "identity-slice"
    name += "-redrawn" if args.redraw else ""
    (RESULTS / f"{name}.md").write_text(markdown(rows))
    (RESULTS / f"{name}.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(markdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

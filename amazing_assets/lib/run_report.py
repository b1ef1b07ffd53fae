"""What a month's run wrote and did not, and why: read from the run's own events (no storage).

A run is not just "succeeded" or "failed": a month can succeed with assets that say "not
segmented" (too few customers) or "not modelled" (no buyer), and a failed month has usually
written its first assets before the one that stopped it. The report lists every asset of the
job with one of: written, written with an outcome (not segmented / not modelled: why), failed
(the message to act on, and whether it was retried), or not run (an earlier asset failed).
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

WRITTEN, OUTCOME, FAILED, NOT_RUN = "written", "written with an outcome", "failed", "not run"


@dataclass(frozen=True)
class AssetState:
    asset: str
    state: str  # one of WRITTEN, OUTCOME, FAILED, NOT_RUN
    detail: str = ""  # the outcome's reason, the failure's message, or what was not run

    @property
    def written(self) -> bool:
        return self.state in (WRITTEN, OUTCOME)

    def line(self) -> str:
        return f"{self.asset:<20} {self.state}" + (f": {self.detail}" if self.detail else "")


def step_assets(job: dg.JobDefinition) -> dict[str, list[str]]:
    """Step (op) name → the assets it materialises, in the job's order. Assets no step
    materialises (``erased_customers``, written by the erasure job) have no step here."""
    return {
        ad.node_def.name: [k.to_user_string() for k in ad.keys]
        for ad in job.asset_layer.asset_graph.assets_defs
        if ad.is_executable
    }


def _outcome_of(metadata: dict) -> str:
    """The outcome an asset recorded in its metadata ("" when it was fully done)."""
    status = metadata.get("status")
    if status is not None and status.value not in ("segmented", "modelled"):
        reason, needed = metadata.get("reason"), metadata.get("needed")
        text = str(status.value).replace("_", " ")
        if reason is not None:
            text += f": {reason.value}"
        if needed is not None:
            text += f"; needed: {needed.value}"
        return text
    skipped = metadata.get("not_modelled")
    if skipped is not None and skipped.value:
        return "not modelled: " + "; ".join(f"{m}: {r}" for m, r in dict(skipped.value).items())
    return ""


def _failure_text(event: dg.DagsterEvent) -> str:
    data = event.step_failure_data
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    if data.error is not None:
        cause = f" ({data.error.cause.message.strip()})" if data.error.cause else ""
        return f"{data.error.message.strip()}{cause}"
    return "failed (see the run's log)"


def asset_states(result: dg.ExecuteInProcessResult) -> list[AssetState]:
    """Every asset of the run's job, in the job's order, with what happened to it."""
    materialised: dict[str, dict] = {}
    failed: dict[str, str] = {}
    restarts: dict[str, int] = {}
    for event in result.all_events:
        kind = event.event_type_value
        if kind == "ASSET_MATERIALIZATION":
            m = event.step_materialization_data.materialization
            materialised[m.asset_key.to_user_string()] = dict(m.metadata)
        elif kind == "STEP_FAILURE" and event.step_key:
            failed[event.step_key] = _failure_text(event)
        elif kind == "STEP_RESTARTED" and event.step_key:
            restarts[event.step_key] = restarts.get(event.step_key, 0) + 1
    states = []
    for step, assets in step_assets(result.job_def).items():
        for asset in assets:
            if asset in materialised:
                outcome = _outcome_of(materialised[asset])
                states.append(AssetState(asset, OUTCOME if outcome else WRITTEN, outcome))
            elif step in failed:
                tries = restarts.get(step, 0)
                retried = f" (after {tries} retr{'y' if tries == 1 else 'ies'})" if tries else ""
                states.append(AssetState(asset, FAILED, failed[step] + retried))
            else:
                states.append(AssetState(asset, NOT_RUN, "an earlier asset of the month failed"))
    return states


def month_report(month: str, result: dg.ExecuteInProcessResult) -> str:
    """A few lines: the run's outcome, how many assets were written, then each asset."""
    states = asset_states(result)
    written = sum(s.written for s in states)
    outcome = "succeeded" if result.success else "FAILED"
    lines = [f"== {month}: run {outcome}, {written} of {len(states)} assets written =="]
    lines += [f"  {s.line()}" for s in states]
    return "\n".join(lines)

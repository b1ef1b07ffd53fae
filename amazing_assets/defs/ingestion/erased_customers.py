"""``erased_customers``, the suppression list (:mod:`.suppression`), as an asset of the graph.

Written by the erasure job, read by ``raw_events``: declaring it gives the lineage its edge
erasure → list → ingestion, and the UI a place to see when the list last grew.
"""

import dagster as dg

from amazing_assets.defs.ingestion.suppression import SUPPRESSION_TABLE
from amazing_assets.lib.asset_options import OWNERS

erased_customers = dg.AssetSpec(
    SUPPRESSION_TABLE,
    code_version="1",
    group_name="privacy",
    owners=OWNERS,
    kinds={"delta"},
    description=(
        "The suppression list: one row per erased customer (a keyed one-way digest, the "
        "request's id, when), appended by erase_customers_job. raw_events leaves these "
        "customers' rows out of every month it ingests, so an erasure lasts across re-runs, "
        "backfills and restored exports."
    ),
)
"""Not computed by a step of its own: the erasure op appends to it and records the
materialisation (as it does for ``erasure_audit``)."""

"""Privacy's definitions: the erasure job, its request sensor and audit, and housekeeping."""

import dagster as dg

from amazing_assets.defs.privacy.jobs import (
    erase_customers_job,
    erasure_audit,
    erasure_request_sensor,
    housekeeping_job,
    housekeeping_schedule,
)


def definitions() -> dg.Definitions:
    return dg.Definitions(
        assets=[erasure_audit],
        jobs=[erase_customers_job, housekeeping_job],
        schedules=[housekeeping_schedule],
        sensors=[erasure_request_sensor],
    )

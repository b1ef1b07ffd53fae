"""A run stops the Spark JVM it started once no later step needs Spark (issue 13's memory bound).

At a real month's size the idle driver JVM keeps ~4 GiB after the ETL; the modelling steps must
not sit beside it. The run happens in a fresh interpreter, as in production (``dagster`` run
workers, ``make run``): inside this test process the session belongs to the test suite, and a
run leaves such a session alone, which every other pipeline test in this process relies on.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

RUN_IN_FRESH_PROCESS = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    import dagster as dg
    import psutil

    from amazing_assets.datagen.generator import GenerationSpec, generate_month
    from amazing_assets.definitions import build_definitions
    from amazing_assets.lib.settings import load_settings

    tmp = Path(sys.argv[1])
    spec = GenerationSpec(month="2019-10", events=8_000, users=800, seed=3)
    generate_month(spec, tmp / "landing")
    settings = load_settings({
        "AMAZING_HOME": str(tmp / "home"),
        "AMAZING_LANDING": str(tmp / "landing"),
        "AMAZING_WAREHOUSE": str(tmp / "warehouse"),
        "AMAZING_SPARK_CONF": "spark.sql.shuffle.partitions=2",
    })
    job = build_definitions(settings).resolve_job_def("monthly_segments")
    jvms = lambda: [p.pid for p in psutil.Process().children(recursive=True) if "java" in p.name()]
    instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(
        partition_key="2019-10-01", instance=instance, raise_on_error=False
    )
    released = [
        e.step_key for e in instance.all_logs(result.run_id)
        if "its JVM was stopped" in (e.user_message or "")
    ]
    started = [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]
    print(json.dumps({
        "success": result.success,
        "jvms_after_run": jvms(),
        "released_at": released,
        "step_order": started,
    }))
    """
)


@pytest.mark.slow
def test_a_run_stops_its_spark_jvm_once_no_later_step_needs_it(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-c", RUN_IN_FRESH_PROCESS, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=420,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["success"], done.stderr[-3000:]
    order = report["step_order"]
    # Released exactly once, by the first releasing step after the last Spark step, and not
    # restarted: the driver-side steps that fit models call the release.
    spark_steps = {"raw_events", "clean_events", "user_features_rfm", "monthly_kpis"}
    releasing = {"customer_value", "pca_embedding", "kmeans_model", "cluster_profiles"}
    last_spark = max(order.index(s) for s in spark_steps if s in order)
    first_releasing = next(s for s in order[last_spark + 1 :] if s in releasing)
    assert report["released_at"] == [first_releasing], report
    assert report["jvms_after_run"] == [], "the run's JVM outlived the run's Spark steps"

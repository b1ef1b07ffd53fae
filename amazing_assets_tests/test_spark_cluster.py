"""Cluster mode: a Spark standalone master and worker from the pyspark installation run a month.

The same processes compose starts in containers (``spark-class ...Master`` / ``...Worker``), here
on localhost. The materialisation runs in its own process, as a Dagster run does, with only
``AMAZING_SPARK_MASTER``/``AMAZING_SPARK_CONF`` changed: executors on the worker run the project's
Python data sources, so this proves they need nothing more than the same Python environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pyspark
import pytest

from amazing_assets.datagen.generator import GenerationSpec, generate_month
from amazing_assets.lib.delta_tables import month_row_counts
from amazing_assets.lib.storage import Location
from amazing_assets_tests.conftest import free_port, wait_until

pytestmark = pytest.mark.slow

SPARK_CLASS = str(Path(sys.executable).parent / "spark-class")
RUN_ONE_MONTH = (
    "import sys; from amazing_assets.demo import materialize_months; "
    "sys.exit(0 if materialize_months(['2019-10'])['2019-10'].success else 1)"
)


def master_state(ui_port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=5) as response:
        return json.load(response)


@pytest.fixture
def standalone_cluster(tmp_path):
    port, ui_port, worker_ui = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        # spark-class finds Spark through the `python` on PATH unless told: name this venv's.
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_LOG_DIR": str(tmp_path / "logs"),
        "SPARK_NO_DAEMONIZE": "1",
    }
    master = subprocess.Popen(
        [
            SPARK_CLASS,
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(ui_port),
        ],
        env=env,
        stdout=(tmp_path / "master.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    worker = None
    try:
        wait_until(lambda: master_state(ui_port)["status"] == "ALIVE", "the master is not alive")
        worker = subprocess.Popen(
            [
                SPARK_CLASS,
                "org.apache.spark.deploy.worker.Worker",
                f"spark://127.0.0.1:{port}",
                "--host",
                "127.0.0.1",
                "--cores",
                "2",
                "--memory",
                "3g",
                "--webui-port",
                str(worker_ui),
                "--work-dir",
                str(tmp_path / "work"),
            ],
            env=env,
            stdout=(tmp_path / "worker.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: master_state(ui_port)["aliveworkers"] == 1, "no worker registered")
        yield f"spark://127.0.0.1:{port}", ui_port, tmp_path / "work"
    finally:
        for process in (worker, master):
            if process is not None:
                process.terminate()
                process.wait(30)


def test_a_month_materialises_on_a_standalone_cluster(standalone_cluster, tmp_path):
    master_url, ui_port, work_dir = standalone_cluster
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    generate_month(GenerationSpec(month="2019-10", events=10_000, users=1_000, seed=5), landing)
    env = {
        **os.environ,
        "AMAZING_HOME": str(tmp_path / "home"),
        "AMAZING_LANDING": str(landing),
        "AMAZING_WAREHOUSE": str(warehouse),
        "AMAZING_SPARK_MASTER": master_url,
        "AMAZING_SPARK_CONF": (
            "spark.driver.host=127.0.0.1 spark.driver.memory=1g spark.executor.memory=2g"
        ),
    }
    run = subprocess.run(
        [sys.executable, "-c", RUN_ONE_MONTH],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    applications = master_state(ui_port)["completedapps"]
    assert [a["name"] for a in applications] == ["amazing-segments"]
    executor_logs = "".join(p.read_text(errors="replace") for p in work_dir.glob("app-*/*/stderr"))
    # Tasks ran on the worker's executor, Python ones included (the project's data sources).
    assert executor_logs.count("Finished task") > 10
    assert "Starting Python task execution" in executor_logs
    clean = month_row_counts(Location.parse(str(warehouse / "clean_events")))
    assert clean["2019-10"] > 5_000
    profiles = month_row_counts(Location.parse(str(warehouse / "cluster_profiles")))
    assert profiles["2019-10"] >= 3

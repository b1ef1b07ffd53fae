"""docker-compose.yml and friends, validated statically (no Docker engine runs here)."""

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
VARIABLE = re.compile(r"\$\{(\w+)(:?[?-])?([^}]*)\}")


def test_every_image_is_pinned():
    for name, service in COMPOSE["services"].items():
        if "image" in service and "build" not in service:
            image = service["image"]
            assert ":" in image and not image.endswith(":latest"), (name, image)


def test_no_secret_has_a_default_and_every_one_is_documented():
    text = (ROOT / "docker-compose.yml").read_text()
    documented = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    for name, operator, _ in VARIABLE.findall(text):
        assert operator == ":?", f"${{{name}}} must refuse to start when unset"
        assert name in documented, f"{name} is not documented in .env.example"
    assert all(
        not line.split("=", 1)[1]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )


def test_minio_users_have_least_privilege():
    pipeline = json.loads((ROOT / "deploy/minio/pipeline-policy.json").read_text())
    dashboard = json.loads((ROOT / "deploy/minio/dashboard-policy.json").read_text())
    dashboard_actions = {a for s in dashboard["Statement"] for a in s["Action"]}
    assert not {a for a in dashboard_actions if a.startswith(("s3:Put", "s3:Delete"))}
    resources = {r for s in pipeline["Statement"] for r in s["Resource"]}
    assert "arn:aws:s3:::*" not in resources and "arn:aws:s3:::amazing/*" not in resources
    assert "minio-init" in COMPOSE["services"]
    assert (
        COMPOSE["services"]["dagster"]["depends_on"]["minio-init"]["condition"]
        == "service_completed_successfully"
    )

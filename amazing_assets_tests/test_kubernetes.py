"""The Kubernetes manifests, checked statically (no cluster runs here): rendered from
deploy/settings.yaml, which must agree with docker-compose.yml and .env.example; valid against the
Kubernetes JSON schemas (offline, kubernetes-validate); Secrets, images, RBAC and network
isolation as compose has them."""

from __future__ import annotations

import base64
import copy
import importlib.util
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from amazing_assets.lib.settings import parse_spark_conf

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
COMPOSE_VARIABLE = re.compile(r"^\$\{(\w+):\?[^}]*\}$")


def load_renderer():
    spec = importlib.util.spec_from_file_location(
        "k8s_render", ROOT / "deploy" / "kubernetes" / "render.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render = load_renderer()
SETTINGS = render.load_settings()
MANIFESTS = [
    doc
    for path in sorted((ROOT / "deploy/kubernetes/manifests").glob("*.yaml"))
    for doc in yaml.safe_load_all(path.read_text())
    if doc
]
K8S_SERVICES = {n: s for n, s in SETTINGS["services"].items() if s["kind"] != "none"}


def kubernetes_validate():
    """kubernetes-validate ships the schemas in the package: nothing is fetched. Required in CI;
    skipped locally (with the command) when the dev extras predate it."""
    if os.environ.get("CI"):
        import kubernetes_validate

        return kubernetes_validate
    return pytest.importorskip(
        "kubernetes_validate", reason="pip install -c constraints.txt -e '.[dev]'"
    )


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [m for m in MANIFESTS if m["kind"] == kind]


def named(kind: str, name: str) -> dict[str, Any]:
    (found,) = [m for m in of_kind(kind) if m["metadata"]["name"] == name]
    return found


def workloads() -> dict[str, dict[str, Any]]:
    return {
        m["metadata"]["name"]: m
        for m in MANIFESTS
        if m["kind"] in ("Deployment", "StatefulSet", "Job")
    }


def executor_template() -> dict[str, Any]:
    config = named("ConfigMap", "amazing-spark-executor")
    return yaml.safe_load(config["data"]["executor-pod.yaml"])


def pod_specs() -> dict[str, dict[str, Any]]:
    """Every pod the stack runs, by name: the workloads' templates and Spark's executors."""
    pods = {name: w["spec"]["template"] for name, w in workloads().items()}
    pods["spark-executor"] = executor_template()
    return pods


# ---- one source of truth ------------------------------------------------------------------------


def test_committed_manifests_are_what_the_settings_render():
    assert render.stale() == [], "run: python deploy/kubernetes/render.py"


def test_a_settings_change_makes_the_committed_manifests_stale(tmp_path):
    settings = copy.deepcopy(SETTINGS)
    settings["images"]["amazing"] = "amazing-segments:9.9.9"
    changed = render.rendered_files(settings)
    committed = {p.name: p.read_text() for p in (ROOT / "deploy/kubernetes/manifests").iterdir()}
    assert {n for n in changed if changed[n] != committed.get(n)} >= {"43-dagster-code.yaml"}


def compose_value(value: str) -> Any:
    match = COMPOSE_VARIABLE.match(str(value))
    return {"env": match.group(1)} if match else str(value)


def unescape(text: str) -> str:
    """Compose's ``$$`` is a literal ``$`` in the container."""
    return text.replace("$$", "$")


def test_settings_describe_exactly_the_compose_services():
    assert set(SETTINGS["services"]) == set(COMPOSE["services"])


@pytest.mark.parametrize("name", sorted(K8S_SERVICES))
def test_compose_service_matches_the_settings(name):
    """Image, command, health check and environment: what compose runs is what Kubernetes runs."""
    service, compose = SETTINGS["services"][name], COMPOSE["services"][name]
    assert SETTINGS["images"][service["image"]] == compose["image"]
    for key in ("command", "entrypoint"):
        if key in service or key in compose:
            assert service.get(key) == [unescape(str(c)) for c in compose.get(key, [])], key
    if "healthcheck" in service or "healthcheck" in compose:
        assert service["healthcheck"] == [unescape(t) for t in compose["healthcheck"]["test"]]
    expected = render.environment(service, "compose")
    actual = {k: compose_value(v) for k, v in (compose.get("environment") or {}).items()}
    for key, value in expected.items():
        if value == {"spark": "master"}:
            expected[key] = SETTINGS["spark"]["compose_master"]
        elif value == {"spark": "conf"}:
            assert parse_spark_conf(actual[key]) == render.spark_conf(SETTINGS, "compose")
            expected[key] = actual[key]
        elif not isinstance(value, dict):
            expected[key] = str(value)
    assert actual == expected
    assert secret_entries(compose.get("secrets")) == secret_entries(service.get("secret_files"))


def secret_entries(entries: list[Any] | None) -> list[tuple[str, int | None]]:
    """(name, mode) of each secret a service mounts, from compose's short or long form."""
    return sorted(
        (e["source"], e.get("mode")) if isinstance(e, dict) else (e, None) for e in entries or []
    )


def test_compose_networks_are_the_settings_zones():
    zones = SETTINGS["networks"]
    assert set(COMPOSE["networks"]) == set(zones)
    for name, compose in COMPOSE["services"].items():
        expected = {zone for zone, spec in zones.items() if name in spec["members"]}
        assert set(compose.get("networks", [])) == expected, name
    for zone, spec in zones.items():
        for member in spec["members"]:
            assert member in COMPOSE["services"] or member == "spark-executor", (zone, member)


def test_published_ports_are_the_settings_ones():
    published: dict[str, list[int]] = {}
    for name, service in COMPOSE["services"].items():
        for port in service.get("ports", []):
            if str(port).startswith("${AMAZING_PUBLIC_BIND"):
                published.setdefault(name, []).append(int(str(port).rsplit(":", 1)[1]))
    assert published == SETTINGS["published"]


def env_example_variables() -> list[str]:
    return [
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    ]


def test_every_env_example_variable_has_its_place_on_kubernetes():
    """Each is in a Secret, or the settings say why Kubernetes needs none."""
    assert sorted(SETTINGS["variables"]) == sorted(env_example_variables())
    for name, spec in SETTINGS["variables"].items():
        assert ("secret" in spec) != ("kubernetes" in spec), name
    referenced = set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text()))
    assert referenced <= set(SETTINGS["variables"])


def test_secret_files_are_compose_secrets():
    for name, spec in SETTINGS["secret_files"].items():
        assert COMPOSE["secrets"][name]["file"] == f"./{spec['file']}", name
    assert set(COMPOSE["secrets"]) == set(SETTINGS["secret_files"])


# ---- schema validation --------------------------------------------------------------------------


def test_every_manifest_validates_against_the_kubernetes_schema(tmp_path):
    validator = kubernetes_validate()
    version = SETTINGS["kubernetes_version"]
    assert len(MANIFESTS) >= 20
    for manifest in [*MANIFESTS, executor_template(), *filled_secrets(tmp_path)]:
        # strict: an unknown field (a misspelt key) fails; a missing schema raises, never passes
        validator.validate(manifest, version, strict=True)


def test_the_schema_check_catches_a_misspelt_field():
    validator = kubernetes_validate()
    broken = copy.deepcopy(named("Deployment", "dagster-code"))
    container = broken["spec"]["template"]["spec"]["containers"][0]
    container["envv"] = container.pop("env")
    with pytest.raises(validator.ValidationError):
        validator.validate(broken, SETTINGS["kubernetes_version"], strict=True)


# ---- secrets, images, RBAC ----------------------------------------------------------------------


def secret_references() -> set[tuple[str, str]]:
    """(Secret, key) of every reference: container variables, mounted files, Spark's executors."""
    refs = set()
    for pod in pod_specs().values():
        for container in pod["spec"]["containers"]:
            for var in container.get("env", []):
                ref = var.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    refs.add((ref["name"], ref["key"]))
        for volume in pod["spec"].get("volumes", []):
            for source in volume.get("projected", {}).get("sources", []):
                for item in source["secret"]["items"]:
                    refs.add((source["secret"]["name"], item["key"]))
            if "secret" in volume:
                pytest.fail(f"mount Secrets with items, not whole: {volume}")
    conf = parse_spark_conf(code_env()["AMAZING_SPARK_CONF"])
    for key, value in conf.items():
        if key.startswith("spark.kubernetes.executor.secretKeyRef."):
            refs.add(tuple(value.split(":", 1)))
    return refs


def declared_secret_keys() -> set[tuple[str, str]]:
    keys = {(s["secret"], v) for v, s in SETTINGS["variables"].items() if "secret" in s}
    return keys | {(s["secret"], name) for name, s in SETTINGS["secret_files"].items()}


def filled_secrets(folder: Path) -> list[dict[str, Any]]:
    """The Secrets ``render.py secrets`` builds from a filled .env and secrets/ folder."""
    env = {name: f"test-{name.lower()}" for name in env_example_variables()}
    (folder / "dagster-ui.htpasswd").write_text("alice:$2y$05$abc\n")
    (folder / "dagster-ui-viewers.htpasswd").write_text("bob:$2y$05$def\n")
    (folder / "panel-users.json").write_text('{"marketing": "x"}\n')
    return render.render_secrets(SETTINGS, env, folder)


def test_every_secret_reference_resolves_to_a_declared_secret_key(tmp_path):
    refs = secret_references()
    assert ("amazing-pipeline-s3", "AMAZING_PIPELINE_ACCESS_KEY") in refs  # executors' too
    assert refs <= declared_secret_keys()
    built = {(s["metadata"]["name"], key) for s in filled_secrets(tmp_path) for key in s["data"]}
    assert refs <= built
    values = {
        base64.b64decode(v).decode() for s in filled_secrets(tmp_path) for v in s["data"].values()
    }
    assert "test-dagster_postgres_password" in values


def test_no_secret_value_is_committed_and_none_is_rendered_without_a_value(tmp_path):
    assert not of_kind("Secret")
    for manifest in MANIFESTS:
        for container in (
            manifest.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
        ):
            for var in container.get("env", []):
                if any(word in var["name"] for word in ("PASSWORD", "SECRET", "KEY")):
                    assert "valueFrom" in var, var["name"]
    env = dict.fromkeys(env_example_variables(), "x")
    env["DAGSTER_POSTGRES_PASSWORD"] = ""
    (tmp_path / "dagster-ui.htpasswd").write_text("alice:x\n")
    (tmp_path / "dagster-ui-viewers.htpasswd").write_text("bob:x\n")
    (tmp_path / "panel-users.json").write_text("{}\n")
    with pytest.raises(SystemExit, match="DAGSTER_POSTGRES_PASSWORD"):
        render.render_secrets(SETTINGS, env, tmp_path)
    (tmp_path / "panel-users.json").unlink()
    with pytest.raises(SystemExit, match=r"panel-users\.json"):
        render.render_secrets(SETTINGS, {**env, "DAGSTER_POSTGRES_PASSWORD": "x"}, tmp_path)


def test_every_container_runs_the_compose_image():
    for name, workload in workloads().items():
        for container in workload["spec"]["template"]["spec"]["containers"]:
            assert container["image"] == COMPOSE["services"][name]["image"], name
    conf = parse_spark_conf(code_env()["AMAZING_SPARK_CONF"])
    assert conf["spark.kubernetes.container.image"] == COMPOSE["services"]["dagster-code"]["image"]


def code_env() -> dict[str, str]:
    container = named("Deployment", "dagster-code")["spec"]["template"]["spec"]["containers"][0]
    return {v["name"]: v.get("value", "") for v in container["env"]}


def allowed_by_rbac(account: str, verb: str, resource: str) -> bool:
    """Kubernetes' RBAC for namespaced resources: a RoleBinding of the account to a Role
    whose rules name the core API group, the resource and the verb."""
    namespace = SETTINGS["namespace"]
    for binding in of_kind("RoleBinding"):
        subjects = binding["subjects"]
        if not any(s["kind"] == "ServiceAccount" and s["name"] == account
                   and s["namespace"] == namespace for s in subjects):  # fmt: skip
            continue
        role = named(binding["roleRef"]["kind"], binding["roleRef"]["name"])
        for rule in role["rules"]:
            if "" in rule["apiGroups"] and resource in rule["resources"] and verb in rule["verbs"]:
                return True
    return False


def test_the_driver_service_account_may_create_and_delete_executor_pods():
    code = named("Deployment", "dagster-code")["spec"]["template"]["spec"]
    account = code["serviceAccountName"]
    assert code["automountServiceAccountToken"] is True
    for verb in ("create", "get", "list", "watch", "delete", "deletecollection"):
        assert allowed_by_rbac(account, verb, "pods"), verb
    assert not allowed_by_rbac(account, "create", "secrets")
    assert not allowed_by_rbac(account, "create", "pods/exec")
    assert not of_kind("ClusterRole") and not of_kind("ClusterRoleBinding")
    conf = parse_spark_conf(code_env()["AMAZING_SPARK_CONF"])
    assert conf["spark.kubernetes.authenticate.driver.serviceAccountName"] == account
    assert conf["spark.kubernetes.namespace"] == SETTINGS["namespace"]
    # Every other pod runs without an API token, and its account has no rights.
    for name, pod in pod_specs().items():
        if name != "dagster-code":
            assert pod["spec"]["automountServiceAccountToken"] is False, name
            assert not allowed_by_rbac(pod["spec"].get("serviceAccountName", "default"),
                                       "list", "pods"), name  # fmt: skip


def test_spark_on_kubernetes_settings_reach_the_driver_and_executors():
    env = code_env()
    assert env["AMAZING_SPARK_MASTER"].startswith("k8s://https://")
    conf = parse_spark_conf(env["AMAZING_SPARK_CONF"])
    # $(POD_IP)/$(POD_NAME) are expanded by Kubernetes from variables defined before them
    names = [v["name"] for v in code_env_list()]
    assert names.index("POD_IP") < names.index("AMAZING_SPARK_CONF")
    assert names.index("POD_NAME") < names.index("AMAZING_SPARK_CONF")
    assert conf["spark.driver.host"] == "$(POD_IP)"
    assert conf["spark.kubernetes.driver.pod.name"] == "$(POD_NAME)"
    template_path = Path(conf["spark.kubernetes.executor.podTemplateFile"])
    mounts = code_mounts()
    assert mounts[str(template_path.parent)] == "spark-executor"
    assert (
        conf["spark.kubernetes.executor.podTemplateContainerName"]
        == (executor_template()["spec"]["containers"][0]["name"])
    )
    for setting in ("spark.authenticate", "spark.network.crypto.enabled",
                    "spark.io.encryption.enabled"):  # fmt: skip
        assert conf[setting] == "true"
    assert not any("SECRET" in v.upper() or "PASSWORD" in v.upper()
                   for k, v in conf.items() if "secretKeyRef" not in k)  # fmt: skip


def code_env_list() -> list[dict[str, Any]]:
    return named("Deployment", "dagster-code")["spec"]["template"]["spec"]["containers"][0]["env"]


def code_mounts() -> dict[str, str]:
    spec = named("Deployment", "dagster-code")["spec"]["template"]["spec"]
    return {m["mountPath"]: m["name"] for m in spec["containers"][0]["volumeMounts"]}


def test_pyspark_ships_the_kubernetes_backend_the_executor_entrypoint_starts():
    """The image installs pyspark from PyPI; its jars must hold the class executor.sh runs."""
    import pyspark

    jars = list((Path(pyspark.__file__).parent / "jars").glob("spark-kubernetes_*.jar"))
    assert jars
    entrypoint = (ROOT / "deploy/kubernetes/executor.sh").read_text()
    (main_class,) = re.findall(r"org\.apache\.spark\.scheduler\.cluster\.k8s\.\w+", entrypoint)
    with zipfile.ZipFile(jars[0]) as jar:
        assert f"{main_class.replace('.', '/')}.class" in jar.namelist()
    assert (
        subprocess.run(["bash", "-n", str(ROOT / "deploy/kubernetes/executor.sh")]).returncode == 0
    )
    result = subprocess.run(
        ["bash", str(ROOT / "deploy/kubernetes/executor.sh"), "driver"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 64 and "executor" in result.stderr
    config = named("ConfigMap", "amazing-spark-executor")
    assert config["data"]["executor.sh"] == entrypoint


# ---- names the configuration files use resolve to Services --------------------------------------


def service_port(name: str) -> set[int]:
    return {p["port"] for p in named("Service", name)["spec"]["ports"]}


def test_the_hosts_the_configuration_files_name_are_services():
    workspace = yaml.safe_load((ROOT / "deploy/dagster/workspace.yaml").read_text())
    server = workspace["load_from"][0]["grpc_server"]
    assert server["port"] in service_port(server["host"])
    dagster = yaml.safe_load((ROOT / "deploy/dagster/dagster.yaml").read_text())
    postgres = dagster["storage"]["postgres"]["postgres_db"]
    assert postgres["port"] in service_port(postgres["hostname"])
    nginx = (ROOT / "deploy/proxy/nginx.conf").read_text()
    upstreams = re.findall(r"proxy_pass http://([\w-]+):(\d+);", nginx)
    assert {host for host, _ in upstreams} == {"dagster-webserver", "dagster-webserver-readonly"}
    for host, port in upstreams:
        assert int(port) in service_port(host), host
    listens = {int(p) for p in re.findall(r"^\s*listen (\d+);", nginx, flags=re.M)}
    assert listens == service_port("dagster-proxy") == set(SETTINGS["published"]["dagster-proxy"])
    endpoint = code_env()["AMAZING_S3_ENDPOINT"]
    host, port = endpoint.removeprefix("http://").split(":")
    assert int(port) in service_port(host)
    assert named("ConfigMap", "dagster-proxy-files")["data"]["nginx.conf"] == nginx


# ---- network isolation --------------------------------------------------------------------------


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, selector  # the evaluator knows matchLabels only
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def may_connect(
    policies: list[dict[str, Any]], source: dict[str, str] | None, target: dict[str, str], port: int
) -> bool:
    """NetworkPolicy ingress semantics: a pod no policy selects accepts everything; a selected
    pod accepts a connection that one rule of one selecting policy allows (``source`` None: a
    client outside the namespace, e.g. an Ingress controller)."""
    selecting = [
        p for p in policies
        if selects(p["spec"]["podSelector"], target) and "Ingress" in p["spec"]["policyTypes"]
    ]  # fmt: skip
    if not selecting:
        return True
    for policy in selecting:
        for rule in policy["spec"].get("ingress", []):
            if "ports" in rule and port not in {p["port"] for p in rule["ports"]}:
                continue
            if "from" not in rule:
                return True
            for peer in rule["from"]:
                assert set(peer) == {"podSelector"}, peer
                if source is not None and selects(peer["podSelector"], source):
                    return True
    return False


def pod_labels() -> dict[str, dict[str, str]]:
    return {name: pod["metadata"]["labels"] for name, pod in pod_specs().items()}


def pod_ports(name: str) -> list[int]:
    if name == "spark-executor":
        return [7079]  # block manager
    spec = pod_specs()[name]["spec"]
    return [p["containerPort"] for c in spec["containers"] for p in c.get("ports", [])] or [8080]


def test_panel_reaches_neither_the_dagster_webserver_nor_the_code_location():
    policies, pods = of_kind("NetworkPolicy"), pod_labels()

    def can(source: str | None, target: str, port: int) -> bool:
        return may_connect(policies, pods[source] if source else None, pods[target], port)

    assert not can("panel", "dagster-webserver", 3000)
    assert not can("panel", "dagster-code", 4000)
    assert not can("panel", "postgres", 5432)
    assert not can("panel", "spark-executor", 7079)
    assert can("panel", "minio", 9000)
    assert can("dagster-proxy", "dagster-webserver", 3000)  # only the proxy bridges
    assert can("dagster-proxy", "dagster-webserver-readonly", 3000)
    assert not can(None, "dagster-webserver", 3000)
    assert not can(None, "dagster-webserver-readonly", 3000)
    assert not can("panel", "dagster-webserver-readonly", 3000)
    assert can(None, "dagster-proxy", 8080) and can(None, "dagster-proxy", 8082)
    assert can(None, "panel", 5006)
    assert not can(None, "dagster-proxy", 8081)  # the health check's port is not published
    assert not can(None, "dagster-code", 4000) and not can(None, "minio", 9000)
    assert can("dagster-webserver", "dagster-code", 4000)
    assert can("dagster-daemon", "dagster-code", 4000)
    assert can("dagster-code", "postgres", 5432)
    assert can("spark-executor", "dagster-code", 7078)  # executors call back to the driver
    assert can("spark-executor", "minio", 9000)
    assert not can("dagster-proxy", "dagster-code", 4000)
    # The one-shot holding MinIO's root credentials reaches MinIO and nothing else.
    assert can("minio-init", "minio", 9000)
    for target, port in (("dagster-code", 4000), ("dagster-code", 7078), ("postgres", 5432),
                         ("spark-executor", 7079), ("dagster-webserver", 3000)):  # fmt: skip
        assert not can("minio-init", target, port), target
    # Not vacuous: Panel put on the proxy's zone, as a compose network would, reaches it.
    on_ui = {**pods["panel"], f"{render.NET_LABEL}ui": "member"}
    assert may_connect(policies, on_ui, pods["dagster-webserver"], 3000)
    assert may_connect([], pods["panel"], pods["dagster-webserver"], 3000)  # no policy: open


def test_network_policies_mirror_the_compose_networks():
    """Two services that both platforms run may talk on Kubernetes iff compose puts them on a
    common network (or the target is published)."""
    policies, pods = of_kind("NetworkPolicy"), pod_labels()
    both = [n for n in pods if n in COMPOSE["services"]]
    assert len(both) == len(K8S_SERVICES)
    for source in both:
        for target in both:
            if source == target:
                continue
            shared = set(COMPOSE["services"][source].get("networks", [])) & set(
                COMPOSE["services"][target].get("networks", [])
            )
            for port in pod_ports(target):
                expected = bool(shared) or port in SETTINGS["published"].get(target, [])
                assert may_connect(policies, pods[source], pods[target], port) == expected, (
                    source, target, port
                )  # fmt: skip


@pytest.mark.spark  # starts a JVM
def test_the_executor_entrypoint_starts_spark_s_kubernetes_executor_backend(tmp_path):
    """What an executor pod runs, with the variables Spark sets on it: the backend starts from
    pyspark's jars and dials the driver URL it was given (no driver listens here)."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "SPARK_EXECUTOR_MEMORY": "512m",
        "SPARK_DRIVER_URL": "spark://CoarseGrainedScheduler@127.0.0.1:9",
        "SPARK_EXECUTOR_ID": "1",
        "SPARK_EXECUTOR_CORES": "1",
        "SPARK_APPLICATION_ID": "spark-entrypoint-test",
        "SPARK_EXECUTOR_POD_IP": "127.0.0.1",
        "SPARK_RESOURCE_PROFILE_ID": "0",
        "SPARK_EXECUTOR_POD_NAME": "amazing-exec-1",
        "SPARK_JAVA_OPT_0": "-Dspark.executor.entrypoint.test=1",
        **({"JAVA_HOME": os.environ["JAVA_HOME"]} if "JAVA_HOME" in os.environ else {}),
    }
    result = subprocess.run(
        ["bash", str(ROOT / "deploy/kubernetes/executor.sh"), "executor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    log = result.stdout + result.stderr
    assert "KubernetesExecutorBackend: Started daemon" in log, log[-2000:]
    assert "Failed to connect to /127.0.0.1:9" in log, log[-2000:]
    assert result.returncode != 0


def test_the_command_line_renders_secrets_from_an_env_file_and_checks_the_manifests(tmp_path):
    env_file = tmp_path / ".env"
    lines = [f"{name}=value-of-{name.lower()}" for name in env_example_variables()]
    env_file.write_text("# filled\n" + "\n".join(lines) + "\n")
    (tmp_path / "dagster-ui.htpasswd").write_text("alice:$2y$05$abc\n")
    (tmp_path / "dagster-ui-viewers.htpasswd").write_text("bob:$2y$05$def\n")
    (tmp_path / "panel-users.json").write_text('{"marketing": "x"}\n')
    script = str(ROOT / "deploy/kubernetes/render.py")
    command = [sys.executable, script, "secrets", "--env-file", str(env_file)]
    result = subprocess.run(
        [*command, "--secrets-dir", str(tmp_path)], capture_output=True, text=True, check=True
    )
    secrets = {s["metadata"]["name"]: s for s in yaml.safe_load_all(result.stdout)}
    postgres = secrets["amazing-dagster-postgres"]["data"]
    assert base64.b64decode(postgres["DAGSTER_POSTGRES_PASSWORD"]) == (
        b"value-of-dagster_postgres_password"
    )
    assert {(name, key) for name, s in secrets.items() for key in s["data"]} == (
        declared_secret_keys()
    )
    assert subprocess.run([sys.executable, script, "--check"], capture_output=True).returncode == 0


SAFE_VALUE = st.text(
    alphabet=st.characters(
        exclude_categories=("Cs",),  # surrogates: not text a file can hold
        exclude_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",  # line breaks
    ),
    max_size=40,
).filter(lambda v: v == v.strip() and " #" not in v and not v.startswith(("'", '"')))


@settings(max_examples=60, deadline=None)
@given(value=SAFE_VALUE, quoted=st.booleans())
def test_env_file_values_read_back_as_compose_reads_them(tmp_path_factory, value, quoted):
    path = tmp_path_factory.mktemp("env") / ".env"
    written = f"'{value}'" if quoted and "'" not in value else value
    path.write_text(f"# comment\n\nexport A_NAME={written}\nOTHER=x # a comment\n")
    assert render.read_env_file(path) == {"A_NAME": value, "OTHER": "x"}


def test_the_daemon_and_the_code_location_never_run_twice():
    for name in ("dagster-daemon", "dagster-code"):
        deployment = named("Deployment", name)
        assert deployment["spec"]["replicas"] == 1
        assert deployment["spec"]["strategy"] == {"type": "Recreate"}, name


def test_the_read_only_webserver_runs_read_only_and_mounts_no_secret():
    """The viewers' UI of compose on Kubernetes too: --read-only, Dagster's storage, no files."""
    spec = named("Deployment", "dagster-webserver-readonly")["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert "--read-only" in container["command"]
    operators = named("Deployment", "dagster-webserver")["spec"]["template"]["spec"]
    assert "--read-only" not in operators["containers"][0]["command"]
    assert {v["name"] for v in container["env"]} == {
        "DAGSTER_POSTGRES_DB", "DAGSTER_POSTGRES_USER", "DAGSTER_POSTGRES_PASSWORD",
    }  # fmt: skip
    assert not any("projected" in v for v in spec.get("volumes", []))
    proxy = named("Deployment", "dagster-proxy")["spec"]["template"]["spec"]
    (secrets,) = [v for v in proxy["volumes"] if "projected" in v]
    items = {(s["secret"]["name"], i["key"]) for s in secrets["projected"]["sources"]
             for i in s["secret"]["items"]}  # fmt: skip
    assert items == {
        ("amazing-dagster-ui-users", "dagster_ui_users"),
        ("amazing-dagster-ui-viewers", "dagster_ui_viewers"),
    }

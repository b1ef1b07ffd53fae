"""docker-compose.yml and friends, validated statically (no Docker engine runs here)."""

import json
import logging.config
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import jsonschema
import pytest
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
    for service in ("dagster-code", "panel"):
        assert (
            COMPOSE["services"][service]["depends_on"]["minio-init"]["condition"]
            == "service_completed_successfully"
        )
    panel_env = COMPOSE["services"]["panel"]["environment"]
    assert "DASHBOARD" in panel_env["AWS_ACCESS_KEY_ID"]  # the app reads with the read-only user


def interpolated_compose() -> dict:
    """The compose file as ``docker compose config`` sees it: every ${VAR} given a value."""
    text = VARIABLE.sub(lambda m: f"value-of-{m.group(1).lower()}", COMPOSE_TEXT)
    return yaml.safe_load(text)


COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()


def test_compose_file_follows_the_compose_specification():
    schema = json.loads((ROOT / "deploy/schemas/compose-spec.json").read_text())
    validator = jsonschema.Draft201909Validator(schema)
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(interpolated_compose())]
    assert errors == []


def test_the_compose_schema_check_catches_a_misspelt_key():
    schema = json.loads((ROOT / "deploy/schemas/compose-spec.json").read_text())
    broken = interpolated_compose()
    broken["services"]["postgres"]["healthchek"] = broken["services"]["postgres"].pop("healthcheck")
    assert list(jsonschema.Draft201909Validator(schema).iter_errors(broken))


def test_services_start_in_order_on_health_checks():
    services = COMPOSE["services"]
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, (name, dependency)
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no health check"
            if rule["condition"] == "service_completed_successfully":
                assert services[dependency].get("restart") == "no", dependency
    long_running = [n for n, s in services.items() if s.get("restart") != "no"]
    assert all("healthcheck" in services[n] for n in long_running)


def test_the_stack_has_every_component_and_spark_runs_on_the_project_image():
    services = COMPOSE["services"]
    expected = {
        "minio", "minio-init", "spark-master", "spark-worker-1", "spark-worker-2", "postgres",
        "dagster-code", "dagster-webserver", "dagster-daemon", "elasticsearch", "logstash",
        "kibana", "grafana", "panel", "dagster-proxy",
    }  # fmt: skip
    assert expected <= set(services)
    image = services["dagster-code"]["image"]
    for name in ("spark-master", "spark-worker-1", "spark-worker-2", "panel"):
        assert services[name]["image"] == image, name
    code_env = services["dagster-code"]["environment"]
    assert code_env["AMAZING_SPARK_MASTER"] == "spark://spark-master:7077"
    assert "spark.driver.host=dagster-code" in code_env["AMAZING_SPARK_CONF"]
    for name in ("dagster-webserver", "dagster-daemon", "dagster-code"):
        assert services[name]["command"][-2:] == ["--log-format", "json"], name


def test_hadolint_passes_on_the_dockerfile():
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run(
        [str(hadolint), str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER \d+", dockerfile, re.M), "the image must not run as root"
    copied = re.findall(r"^COPY (?!.*--from)(?:--\S+ )*(.+) \S+$", dockerfile, re.M)
    for sources in copied:
        for source in sources.split():
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"


def test_dagster_yaml_is_accepted_by_dagster(monkeypatch, tmp_path):
    from dagster._core.instance.config import dagster_instance_config
    from dagster._serdes.config_class import ConfigurableClassData

    for name in ("DAGSTER_POSTGRES_DB", "DAGSTER_POSTGRES_USER", "DAGSTER_POSTGRES_PASSWORD"):
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("AMAZING_HOME", str(tmp_path))  # where the handler's queue would live
    config, _ = dagster_instance_config(str(ROOT / "deploy/dagster"))
    assert config["storage"]["postgres"]["postgres_db"]["hostname"] == "postgres"
    storage = ConfigurableClassData(
        "dagster_postgres", "DagsterPostgresStorage", yaml.safe_dump(config["storage"]["postgres"])
    )
    assert storage.info_dict()  # the class and its config resolve (no connection is made)
    handlers = config["python_logs"]["dagster_handler_config"]["handlers"]
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            **config["python_logs"]["dagster_handler_config"],
            "loggers": {"deploy_config_check": {"handlers": list(handlers)}},
        }
    )
    built = logging.getLogger("deploy_config_check").handlers
    assert {type(h).__name__ for h in built} == {"StreamHandler", "LogstashHttpHandler"}
    for handler in built:
        logging.getLogger("deploy_config_check").removeHandler(handler)
        handler.close()


def code_location_commands() -> dict[str, list[str]]:
    """Every command that serves or loads the code location, by where it is written."""
    settings = yaml.safe_load((ROOT / "deploy/settings.yaml").read_text())
    manifest = next(
        document
        for document in yaml.safe_load_all(
            (ROOT / "deploy/kubernetes/manifests/43-dagster-code.yaml").read_text()
        )
        if document and document["kind"] == "Deployment"
    )
    [container] = manifest["spec"]["template"]["spec"]["containers"]
    dockerfile_cmd = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M)
    make_ui = re.search(r"dagster dev (-m \S+)", (ROOT / "Makefile").read_text())
    assert dockerfile_cmd and make_ui
    return {
        "Dockerfile": json.loads(dockerfile_cmd.group(1)),
        "docker-compose.yml": COMPOSE["services"]["dagster-code"]["command"],
        "deploy/settings.yaml": settings["services"]["dagster-code"]["command"],
        "deploy/kubernetes/manifests/43-dagster-code.yaml": container["command"],
        "Makefile (ui)": make_ui.group(1).split(),
    }


def test_every_place_that_names_the_code_location_names_the_same_one():
    """The location's name and module are written in config files Dagster reads (workspaces,
    pyproject, the servers' commands), which cannot import Python: this holds them equal to
    ``amazing_assets.definitions`` and its ``CODE_LOCATION``."""
    import tomllib

    from amazing_assets import definitions

    module = definitions.__name__
    [local] = yaml.safe_load((ROOT / "workspace.yaml").read_text())["load_from"]
    assert local["python_module"] == {
        "module_name": module,
        "location_name": definitions.CODE_LOCATION,
    }
    [served] = yaml.safe_load((ROOT / "deploy/dagster/workspace.yaml").read_text())["load_from"]
    assert served["grpc_server"]["location_name"] == definitions.CODE_LOCATION
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["dagster"]
    assert pyproject == {"module_name": module, "code_location_name": definitions.CODE_LOCATION}
    for where, command in code_location_commands().items():
        assert command[command.index("-m") + 1] == module, where


def test_compose_workspace_points_at_the_grpc_code_location():
    workspace = yaml.safe_load((ROOT / "deploy/dagster/workspace.yaml").read_text())
    server = workspace["load_from"][0]["grpc_server"]
    code = COMPOSE["services"]["dagster-code"]
    assert server["host"] == code["hostname"] == "dagster-code"
    assert str(server["port"]) == code["command"][code["command"].index("-p") + 1]


@pytest.mark.slow  # starts the code location as a gRPC server
def test_compose_workspace_loads_the_definitions_from_a_grpc_server(tmp_path):
    """Serve the code location the way dagster-code does and load it through the workspace."""
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    from amazing_assets.definitions import CODE_LOCATION
    from amazing_assets_tests.conftest import free_port, wait_until

    port = free_port()
    workspace = yaml.safe_load((ROOT / "deploy/dagster/workspace.yaml").read_text())
    workspace["load_from"][0]["grpc_server"]["host"] = "127.0.0.1"
    workspace["load_from"][0]["grpc_server"]["port"] = port
    local = tmp_path / "workspace.yaml"
    local.write_text(yaml.safe_dump(workspace))
    env = {**os.environ, "AMAZING_HOME": str(tmp_path / "home")}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster"),
            "api",
            "grpc",
            "-m",
            "amazing_assets.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        health = [str(Path(sys.executable).parent / "dagster"), "api", "grpc-health-check"]
        wait_until(
            lambda: subprocess.run([*health, "-p", str(port)], capture_output=True).returncode == 0,
            "the code location's gRPC server is not healthy",
            timeout=180,
        )
        with (
            dg.instance_for_test(temp_dir=str(tmp_path)) as instance,
            WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[str(local)])) as context,
        ):
            location = context.create_request_context().get_code_location(CODE_LOCATION)
            repository = next(iter(location.get_repositories().values()))
            assert repository.has_job("monthly_segments")
            assert {s.name for s in repository.get_sensors()} >= {"landing_sensor"}
    finally:
        server.terminate()
        server.wait(30)


def test_grafana_provisioning_and_dashboard_load():
    provisioning = ROOT / "deploy/grafana/provisioning"
    datasources = yaml.safe_load((provisioning / "datasources/elasticsearch.yaml").read_text())
    providers = yaml.safe_load((provisioning / "dashboards/amazing.yaml").read_text())
    assert datasources["apiVersion"] == providers["apiVersion"] == 1
    uids = {d["uid"] for d in datasources["datasources"]}
    mounts = COMPOSE["services"]["grafana"]["volumes"]
    dashboards_dir = providers["providers"][0]["options"]["path"]
    assert f"./deploy/grafana/dashboards:{dashboards_dir}:ro" in mounts
    dashboards = list((ROOT / "deploy/grafana/dashboards").glob("*.json"))
    assert dashboards
    for path in dashboards:
        dashboard = json.loads(path.read_text())
        assert dashboard["uid"] and dashboard["panels"]
        titles = {p["title"] for p in dashboard["panels"]}
        assert {"Runs failed", "Step duration per asset", "Rows per asset and month"} <= titles
        assert any("check" in t.lower() for t in titles)
        for panel in dashboard["panels"]:
            assert panel["datasource"]["uid"] in uids, panel["title"]
            for target in panel["targets"]:
                assert target["datasource"]["uid"] in uids
                for field in re.findall(r"(dagster\.[a-z_.]+|log\.level)", target["query"]):
                    assert field in ECS_FIELDS, (panel["title"], field)


# Fields the ECS formatter writes that dashboards may query (see observability/ecs.py).
ECS_FIELDS = {
    "dagster.event_type",
    "dagster.asset_key",
    "dagster.partition",
    "dagster.run_id",
    "dagster.check.passed",
    "dagster.check.name",
    "log.level",
}


def test_logstash_indexes_each_record_under_its_own_id():
    pipeline = (ROOT / "deploy/logstash/pipeline/amazing.conf").read_text()
    assert "codec => json" in pipeline
    assert 'document_id => "%{[event][id]}"' in pipeline
    assert COMPOSE["services"]["logstash"]["environment"]["QUEUE_TYPE"] == "persisted"
    template = json.loads((ROOT / "deploy/elasticsearch/amazing-logs-template.json").read_text())
    assert template["template"]["mappings"]["properties"]["dagster"]["properties"]["asset_key"]


def published(service: dict) -> list[str]:
    return [str(p) for p in service.get("ports", [])]


def test_only_the_ui_and_the_app_are_published_beyond_this_host():
    """Before: every port on all interfaces, the Dagster UI without authentication."""
    services = COMPOSE["services"]
    for name, service in services.items():
        for port in published(service):
            if name in ("dagster-proxy", "panel"):
                assert port.startswith("${AMAZING_PUBLIC_BIND:?"), (name, port)
            else:
                assert port.startswith("127.0.0.1:"), (name, port)
    assert not published(services["dagster-webserver"])  # only through the proxy
    assert not published(services["spark-master"])
    proxy = (ROOT / "deploy/proxy/nginx.conf").read_text()
    assert "auth_basic_user_file /run/secrets/dagster_ui_users;" in proxy
    assert "proxy_pass http://dagster-webserver:3000;" in proxy
    assert set(services["dagster-proxy"]["secrets"]) == {"dagster_ui_users", "dagster_ui_viewers"}


def test_no_secret_travels_on_a_command_line_and_no_service_mounts_the_docker_socket():
    services = COMPOSE["services"]
    for name, service in services.items():
        command = " ".join(
            service.get("command", [])
            if isinstance(service.get("command"), list)
            else [str(service.get("command", ""))]
        )
        assert "PASSWORD" not in command and "SECRET" not in command, name
        assert not any("docker.sock" in str(v) for v in service.get("volumes", [])), name
        assert service.get("user") != "root", name
    assert "--basic-auth /run/secrets/panel_users" in " ".join(services["panel"]["command"])


def test_log_users_have_least_privilege_and_logs_expire():
    setup = (ROOT / "deploy/elasticsearch/setup.sh").read_text()
    logstash = (ROOT / "deploy/logstash/pipeline/amazing.conf").read_text()
    grafana = (ROOT / "deploy/grafana/provisioning/datasources/elasticsearch.yaml").read_text()
    assert 'user => "amazing_logstash"' in logstash and '"elastic"' not in logstash
    assert "basicAuthUser: amazing_grafana" in grafana
    assert '"privileges":["read","view_index_metadata"]' in setup
    for name in ("logstash", "grafana", "kibana"):
        assert "ELASTIC_PASSWORD" not in str(COMPOSE["services"][name].get("environment")), name
    template = json.loads((ROOT / "deploy/elasticsearch/amazing-logs-template.json").read_text())
    assert template["template"]["settings"]["index.lifecycle.name"] == "amazing-logs"
    assert '"delete":{"min_age":' in setup.replace('\\"', '"')  # deleted after the retention


def test_spark_rpc_is_authenticated_and_encrypted_everywhere():
    services = COMPOSE["services"]
    for name in ("spark-master", "spark-worker-1", "spark-worker-2", "dagster-code"):
        env = services[name]["environment"]
        assert env["_SPARK_AUTH_SECRET"].startswith("${AMAZING_SPARK_AUTH_SECRET:?"), name
    for name in ("spark-master", "spark-worker-1"):
        opts = services[name]["environment"]["SPARK_DAEMON_JAVA_OPTS"]
        assert "-Dspark.authenticate=true" in opts and "network.crypto.enabled=true" in opts
    conf = services["dagster-code"]["environment"]["AMAZING_SPARK_CONF"]
    for setting in ("spark.authenticate=true", "spark.network.crypto.enabled=true",
                    "spark.io.encryption.enabled=true"):  # fmt: skip
        assert setting in conf


def test_the_dashboard_reads_the_app_tables_and_never_the_raw_zone():
    """Before: GetObject on all of warehouse/*, raw ids and quarantine lines included."""
    from amazing_assets.lib.storage import Location
    from amazing_assets.lib.tables import APP_TABLES, RAW_ZONE, RAW_ZONE_TABLES, table_location

    dashboard = json.loads((ROOT / "deploy/minio/dashboard-policy.json").read_text())
    readable = {
        r for s in dashboard["Statement"] for r in s["Resource"] if "s3:GetObject" in s["Action"]
    }
    assert readable == {f"arn:aws:s3:::amazing/warehouse/{t}/*" for t in APP_TABLES}
    warehouse = Location.parse("s3://amazing/warehouse")
    for name in RAW_ZONE_TABLES:
        assert table_location(warehouse, name).path == f"amazing/warehouse/{RAW_ZONE}/{name}"
    assert RAW_ZONE not in APP_TABLES and not RAW_ZONE_TABLES & set(APP_TABLES)
    app_source = (ROOT / "panel_app" / "data.py").read_text()
    assert not any(f'"{name}"' in app_source for name in RAW_ZONE_TABLES)


# ---- issue 24, finding 13: argv, networks, the app's users, a read-only UI role -------------
SECRET_NAME = re.compile(r"PASSWORD|SECRET|_AUTH\b|PRIVATE")
SECRET_REFERENCE = re.compile(r"\$\$?\{?(\w*(?:PASSWORD|SECRET)\w*)")
SHELL_BUILTINS_THAT_DO_NOT_EXEC = ("printf ", "export ", "local ", "readonly ")


def argv_texts(service: dict) -> list[str]:
    """Every argv a service runs from compose: command, entrypoint and health check."""
    texts = []
    for key in ("command", "entrypoint"):
        value = service.get(key)
        if value:
            texts.append(" ".join(value) if isinstance(value, list) else str(value))
    test = (service.get("healthcheck") or {}).get("test")
    if test:
        texts.append(" ".join(test) if isinstance(test, list) else str(test))
    return texts


def test_no_compose_argv_holds_or_expands_a_secret():
    """Before: the ES health check ran `curl -u elastic:$ELASTIC_PASSWORD` (in every `ps`)."""
    for name, service in COMPOSE["services"].items():
        for text in argv_texts(service):
            assert not SECRET_REFERENCE.search(text), (name, text)
            assert not re.search(r"(-u|--user)\s+\S*:", text), (name, text)  # curl -u user:pass
            assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", text), (name, text)  # URL userinfo


def script_commands(text: str) -> list[str]:
    """The simple commands of a POSIX sh script: one per pipeline segment, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", text)
    commands = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for segment in re.split(r"\|\||&&|\||;", line):
            if segment.strip():
                commands.append(segment.strip())
    return commands


SETUP_SCRIPTS = [
    "deploy/minio/init.sh",
    "deploy/elasticsearch/setup.sh",
    "deploy/elasticsearch/healthcheck.sh",
]


@pytest.mark.parametrize("script", SETUP_SCRIPTS)
def test_setup_scripts_pass_secrets_on_stdin_or_in_files_never_in_argv(script):
    """Before: `mc alias set … "$MINIO_ROOT_PASSWORD"`, `mc admin user add … "$SECRET"`,
    `curl -u "elastic:$ELASTIC_PASSWORD" -d '{"password": …}'`: each in the process list.

    A secret may appear only in a shell builtin that runs no program (printf into a pipe or a
    0600 file, export into the environment of children), a variable assignment, or a call of
    one of the script's own functions (which run in the shell; their bodies are checked too).
    """
    text = (ROOT / script).read_text()
    functions = tuple(f"{name} " for name in re.findall(r"^(\w+)\(\)\s*\{", text, flags=re.M))
    for command in script_commands(text):
        if not SECRET_REFERENCE.search(command) and "$AUTH" not in command:
            continue
        is_assignment = re.match(r"^[A-Za-z_]\w*=", command)
        allowed = SHELL_BUILTINS_THAT_DO_NOT_EXEC + functions
        assert is_assignment or command.startswith(allowed), (
            script,
            command,
        )


def test_the_es_health_check_reads_its_password_inside_the_container():
    es = COMPOSE["services"]["elasticsearch"]
    assert es["healthcheck"]["test"] == ["CMD", "/bin/sh", "/setup/healthcheck.sh"]
    assert "./deploy/elasticsearch:/setup:ro" in es["volumes"]
    script = (ROOT / "deploy/elasticsearch/healthcheck.sh").read_text()
    assert "curl -K -" in script or "--netrc-file" in script


def service_networks(service: dict) -> set[str]:
    networks = service.get("networks")
    if networks is None:
        return {"default"}
    return set(networks)  # a list of names, or a mapping keyed by them


def test_every_service_names_its_networks_and_the_app_cannot_reach_dagster():
    """Before: one default network, so Panel reached dagster-webserver:3000 and the code
    location's gRPC server (dagster-code:4000) without the proxy or any authentication."""
    services = COMPOSE["services"]
    declared = set(COMPOSE.get("networks") or {})
    for name, service in services.items():
        assert "networks" in service, f"{name} would join the shared default network"
        assert service_networks(service) <= declared, name
    panel = service_networks(services["panel"])
    for name in ("dagster-webserver", "dagster-webserver-readonly", "dagster-code",
                 "dagster-daemon", "postgres", "spark-master"):  # fmt: skip
        assert not panel & service_networks(services[name]), name
    # From beyond this host, the webservers are reached only through the proxy; the operators'
    # log tools (Kibana, Grafana) share no network with any Dagster service either.
    for webserver in ("dagster-webserver", "dagster-webserver-readonly", "dagster-code"):
        neighbours = {
            other
            for other, service in services.items()
            if other != webserver
            and service_networks(service) & service_networks(services[webserver])
        }
        public = {
            n
            for n in neighbours
            if any(p.startswith("${AMAZING_PUBLIC_BIND") for p in published(services[n]))
        }
        assert public <= {"dagster-proxy"}, (webserver, public)
        assert not neighbours & {"kibana", "grafana", "elasticsearch", "panel"}, webserver
    assert service_networks(services["dagster-proxy"]) == {"ui"}


def test_the_apps_users_file_is_a_read_only_secret_and_its_limit_is_documented():
    """Panel's --basic-auth compares plain-text passwords (panel/auth.py `_validate`): no hash
    format is accepted. The file is therefore a compose secret, mode 0400, never in the image."""
    panel = COMPOSE["services"]["panel"]
    secret = next(s for s in panel["secrets"] if isinstance(s, dict))
    assert secret["source"] == "panel_users" and secret["mode"] == 0o400
    assert "panel_users" in COMPOSE["secrets"]
    dockerignore = (ROOT / ".dockerignore").read_text()
    assert "secrets" in dockerignore
    assert "plain text" in (ROOT / ".env.example").read_text()


def test_non_operators_get_a_read_only_dagster_ui():
    """Dagster OSS has no roles; `dagster-webserver --read-only` turns every mutation off
    (launching runs, backfills, schedules and sensors), so viewers can watch but not launch."""
    services = COMPOSE["services"]
    readonly = services["dagster-webserver-readonly"]
    assert "--read-only" in readonly["command"]
    assert "--read-only" not in services["dagster-webserver"]["command"]
    assert not published(readonly)
    proxy = (ROOT / "deploy/proxy/nginx.conf").read_text()
    servers = re.findall(r"server \{(.*?)\n  \}", proxy, flags=re.S)
    by_upstream = {
        re.search(r"proxy_pass http://([\w-]+):", s).group(1): s  # type: ignore[union-attr]
        for s in servers
        if "proxy_pass" in s
    }
    assert "auth_basic_user_file /run/secrets/dagster_ui_users;" in by_upstream["dagster-webserver"]
    assert (
        "auth_basic_user_file /run/secrets/dagster_ui_viewers;"
        in by_upstream["dagster-webserver-readonly"]
    )
    assert set(services["dagster-proxy"]["secrets"]) == {"dagster_ui_users", "dagster_ui_viewers"}


def test_the_one_shot_holding_minio_s_root_credentials_meets_minio_alone():
    """Before: minio-init sat on `pipeline-storage`, next to dagster-code and the Spark workers
    (reachable from it, and it from them), with MinIO's root password in its environment."""
    services = COMPOSE["services"]
    init = service_networks(services["minio-init"])
    neighbours = {
        other
        for other, service in services.items()
        if other != "minio-init" and service_networks(service) & init
    }
    assert neighbours == {"minio"}
    assert "MINIO_ROOT_PASSWORD" in services["minio-init"]["environment"]

"""The compose topology (docker-compose.yml, docker/, .env.example), checked without a Docker engine.

The files are parsed as data and held to the contracts of the README's "Production topology": which
services exist and in which profiles, what they depend on and how, what they publish and where, which
variables they read, that no secret is written down, that images are pinned, and that the Dagster
instance and workspace the images carry agree with the compose file. When a `docker compose` CLI is
present, its own `config` check runs too. The stack itself is started in compose/test_stack.py.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import os
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKER = ROOT / "docker"

SERVICES = {
    "check-env",
    "postgres",
    "s3",
    "s3-init",
    "mlflow",
    "code-location",
    "dagster-webserver",
    "dagster-daemon",
    "acquisition",
    "api",
}
ONE_SHOT = {"check-env", "s3-init", "acquisition"}
LONG_RUNNING = SERVICES - ONE_SHOT
PROFILES = {"all", "storage", "mlflow", "dagster", "api"}
# What each smaller profile is for: these services at least (plus what they depend on).
PROFILE_CORE = {
    "storage": {"check-env", "postgres", "s3", "s3-init"},
    "mlflow": {"mlflow"},
    "dagster": {"code-location", "dagster-webserver", "dagster-daemon"},
    "api": {"api"},
}
# service -> container ports published on the host: what people open (UIs, API), never PostgreSQL or S3
PUBLISHED = {
    "mlflow": {5001},
    "dagster-webserver": {3000},
    "api": {8800},
}
BUCKETS = {"data", "landing", "mlflow", "dagster"}
DAGSTER_IMAGE_SERVICES = {
    "check-env",
    "s3-init",
    "code-location",
    "dagster-webserver",
    "dagster-daemon",
    "acquisition",
}
THIRD_PARTY = {"postgres", "s3"}
# The settings every Dagster process (and so every run container) must see.
PLATFORM_ENV = {
    "DAGSTER_POSTGRES_HOST",
    "DAGSTER_POSTGRES_PORT",
    "DAGSTER_POSTGRES_USER",
    "DAGSTER_POSTGRES_PASSWORD",
    "DAGSTER_POSTGRES_DB",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "CRIME_WEATHER_SOURCE",
    "CRIME_WEATHER_LANDING_URI",
    "CRIME_WEATHER_WAREHOUSE_URI",
    "CRIME_WEATHER_S3_ENDPOINT_URL",
    "CRIME_WEATHER_MLFLOW_TRACKING_URI",
    "CRIME_WEATHER_REGISTERED_MODEL",
    "CRIME_WEATHER_FORECAST_SOURCE",
}
REQUIRED_ENV = {
    "postgres": {
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "DAGSTER_POSTGRES_USER",
        "DAGSTER_POSTGRES_PASSWORD",
        "DAGSTER_POSTGRES_DB",
        "MLFLOW_POSTGRES_USER",
        "MLFLOW_POSTGRES_PASSWORD",
        "MLFLOW_POSTGRES_DB",
    },
    "s3": {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
    # docker/s3_init.py reads these.
    "s3-init": {
        "S3_ENDPOINT_URL",
        "S3_ROOT_ACCESS_KEY",
        "S3_ROOT_SECRET_KEY",
        "S3_APP_ACCESS_KEY",
        "S3_APP_SECRET_KEY",
        "S3_API_ACCESS_KEY",
        "S3_API_SECRET_KEY",
        "S3_BUCKETS",
        "S3_API_BUCKETS",
    },
    # docker/mlflow-server.sh reads these.
    "mlflow": {
        "MLFLOW_POSTGRES_USER",
        "MLFLOW_POSTGRES_PASSWORD",
        "MLFLOW_POSTGRES_DB",
        "MLFLOW_S3_ENDPOINT_URL",
        "MLFLOW_ARTIFACTS_DESTINATION",
        "MLFLOW_SERVER_ALLOWED_HOSTS",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    },
    "code-location": PLATFORM_ENV | {"DAGSTER_CURRENT_IMAGE", "DAGSTER_CONTAINER_CONTEXT"},
    "dagster-webserver": PLATFORM_ENV,
    "dagster-daemon": PLATFORM_ENV,
    "acquisition": {
        "CRIME_WEATHER_SOURCE",
        "CRIME_WEATHER_LANDING_URI",
        "CRIME_WEATHER_S3_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    },
    "api": {
        "CRIME_WEATHER_API_HOST",
        "CRIME_WEATHER_API_PORT",
        "CRIME_WEATHER_API_ACCESS_LOG",
        "CRIME_WEATHER_MLFLOW_TRACKING_URI",
        "CRIME_WEATHER_REGISTERED_MODEL",
        "CRIME_WEATHER_WAREHOUSE_URI",
        "CRIME_WEATHER_S3_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    },
}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|KEY|TOKEN")
REQUIRED_REF = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}")
VAR_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
CREDENTIALS_IN_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


# --- reading the files -------------------------------------------------------------------------


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def compose_text() -> str:
    """docker-compose.yml without its comment lines (compose substitutes variables in values only)."""
    lines = COMPOSE_FILE.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"{path.name}: not NAME=value: {line!r}"
            values[name.strip()] = value.strip()
    return values


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's substitution: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, and $$ -> $."""

    def replace(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        value = env.get(name)
        if operator in (":-", ":?") and not value:
            value = None
        if value is not None:
            return value
        if operator in (":?", "?"):
            raise KeyError(f"{name}: {argument}")
        return argument or ""

    placeholder = "\0"
    return VAR_REF.sub(replace, text.replace("$$", placeholder)).replace(placeholder, "$")


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def dockerfile(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions, pending = [], ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, rest = (pending + line).partition(" ")
        instructions.append((keyword.upper(), " ".join(rest.split())))
        pending = ""
    assert not pending, f"{path.name} ends inside a continued line"
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from:]


def docker_context_includes(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps `path` in the build context (last matching rule wins)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    included = True
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern[1:] if negated else pattern
        body = body.strip("/")
        if any(fnmatch.fnmatchcase(prefix, body) for prefix in prefixes):
            included = negated
    return included


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE_FILE)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def instance() -> dict[str, Any]:
    return load_yaml(DOCKER / "dagster.yaml")


# --- services, profiles, dependencies ------------------------------------------------------------


def test_every_service_of_the_topology_is_defined(services):
    assert set(services) == SERVICES


def test_every_service_is_in_profile_all_and_each_smaller_profile_has_its_part(services):
    for name, service in services.items():
        assert "all" in service.get("profiles", []), f"{name} is not in profile all"
    assert {profile for service in services.values() for profile in service["profiles"]} == PROFILES
    for profile, core in PROFILE_CORE.items():
        members = {name for name, service in services.items() if profile in service["profiles"]}
        assert core <= members, f"profile {profile} lacks {core - members}"
        assert members < set(services), f"profile {profile} is not smaller than all"


def test_each_profile_holds_what_its_services_depend_on(services):
    for profile in PROFILES:
        members = {name for name, service in services.items() if profile in service["profiles"]}
        for name in members:
            missing = set(services[name].get("depends_on", {})) - members
            assert not missing, f"profile {profile}: {name} depends on {missing}, outside the profile"


def test_dependencies_wait_for_health_or_completion(services):
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions, not a list"
        for target, rule in depends_on.items():
            expected = "service_completed_successfully" if target in ONE_SHOT else "service_healthy"
            assert rule.get("condition") == expected, f"{name} -> {target}: condition {expected}"
    assert services["s3-init"]["depends_on"]["s3"]["condition"] == "service_healthy"
    for name in ("mlflow", "code-location", "acquisition", "api"):
        assert "s3-init" in services[name]["depends_on"], f"{name} must wait for the buckets and keys"
    # Nothing stores a password before check-env has refused the placeholders.
    for name in ("postgres", "s3"):
        assert "check-env" in services[name]["depends_on"], f"{name} must wait for check-env"


def test_long_running_services_have_healthchecks_and_restart_policies(services):
    for name in LONG_RUNNING:
        check = services[name].get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), f"{name}: healthcheck test form"
        for key in ("interval", "timeout", "retries"):
            assert key in check, f"{name}: healthcheck without {key}"
        assert services[name].get("restart") in ("unless-stopped", "always"), f"{name}: restart policy"
    for name in ONE_SHOT:
        assert services[name].get("restart") == "no", f"{name} runs once: restart must be 'no'"


def test_s3_init_creates_the_buckets_the_platform_uses(services, instance):
    assert services["s3-init"]["command"] == ["python", "/opt/dagster/app/docker/s3_init.py"]
    buckets = set(environment(services["s3-init"])["S3_BUCKETS"].split(","))
    assert buckets == BUCKETS
    platform = environment(services["code-location"])
    used = {
        urlparse(platform["CRIME_WEATHER_LANDING_URI"]).netloc,
        urlparse(platform["CRIME_WEATHER_WAREHOUSE_URI"]).netloc,
        urlparse(environment(services["mlflow"])["MLFLOW_ARTIFACTS_DESTINATION"]).netloc,
        instance["compute_logs"]["config"]["bucket"],
    }
    assert used == buckets


def test_the_s3_image_is_the_server_release_the_tests_run(services):
    """The S3 server the tests start from PyPI (crime_weather_tests/compose/tools.py) is the image's."""
    from crime_weather_tests.compose.tools import SEAWEEDFS

    image = services["s3"]["image"]
    assert image.startswith(f"chrislusf/seaweedfs:{SEAWEEDFS.version}@sha256:")


# --- ports and network ---------------------------------------------------------------------------


def published_ports(service: dict[str, Any], env: dict[str, str]) -> dict[int, tuple[str, int]]:
    """container port -> (host address, host port), after substitution."""
    ports = {}
    for entry in service.get("ports", []):
        assert isinstance(entry, str), "ports in the short form HOST_IP:HOST_PORT:CONTAINER_PORT"
        host_ip, host_port, container_port = interpolate(entry, env).rsplit(":", 2)
        ports[int(container_port)] = (host_ip, int(host_port))
    return ports


@pytest.mark.parametrize("env_name", ["defaults", ".env.example"])
def test_published_ports_bind_loopback_by_default(services, env_example, env_name):
    env = {} if env_name == "defaults" else env_example
    for name, service in services.items():
        ports = published_ports(service, env)
        assert set(ports) == PUBLISHED.get(name, set()), f"{name} publishes {sorted(ports)}"
        for port, (host_ip, host_port) in ports.items():
            assert host_ip == "127.0.0.1", f"{name}:{port} binds {host_ip or 'every interface'}"
            assert host_port == port, f"{name}:{port}: the documented port by default"


def test_host_ports_are_variables(services, env_example):
    """Each published port moves with its own variable (listed in .env.example)."""
    moved: dict[str, str] = {}
    for name in PUBLISHED:
        (entry,) = services[name]["ports"]
        variable = VAR_REF.findall(entry.rsplit(":", 1)[0].split("}:", 1)[1])
        assert len(variable) == 1, f"{name}: the host port is one ${{VAR:-default}}"
        assert variable[0][0] in env_example
        moved[variable[0][0]] = str(40000 + len(moved))
    for name in PUBLISHED:
        ports = published_ports(
            services[name], {**env_example, **moved, "CRIME_WEATHER_BIND_ADDRESS": "0.0.0.0"}
        )
        ((host_ip, host_port),) = ports.values()
        assert host_ip == "0.0.0.0" and str(host_port) in moved.values()


def test_links_and_allowed_hosts_follow_the_published_mlflow(services, env_example):
    """The MLflow link of the Dagster UI and the Host headers MLflow accepts use the published port."""
    env = {
        **env_example,
        "CRIME_WEATHER_PUBLIC_HOST": "crime.example.org",
        "CRIME_WEATHER_MLFLOW_HOST_PORT": "15001",
    }
    ui = interpolate(environment(services["code-location"])["CRIME_WEATHER_MLFLOW_UI_URL"], env)
    assert ui == "http://crime.example.org:15001"
    allowed = interpolate(environment(services["mlflow"])["MLFLOW_SERVER_ALLOWED_HOSTS"], env).split(",")
    assert {"mlflow:5001", "crime.example.org:15001", "127.0.0.1:15001"} <= set(allowed)


def test_http_healthchecks_probe_the_port_the_service_serves(services):
    for name in ("mlflow", "dagster-webserver", "api"):
        test = " ".join(services[name]["healthcheck"]["test"])
        port = re.search(r"http://127\.0\.0\.1:(\d+)/", test)
        assert port and {int(port.group(1))} == PUBLISHED[name], f"{name}: healthcheck port"
    command = services["code-location"]["command"]
    port = command[command.index("-p") + 1]
    assert services["code-location"]["expose"] == [port]
    check = services["code-location"]["healthcheck"]["test"]
    assert check[check.index("-p") + 1] == port


def test_the_api_is_probed_for_readiness():
    """Healthy once it serves a champion (/health/ready), in compose and in the image alike."""
    compose_probe = load_yaml(COMPOSE_FILE)["services"]["api"]["healthcheck"]["test"][-1]
    assert urlparse(compose_probe).path == "/health/ready"
    (image_probe,) = [a for k, a in final_stage(dockerfile(DOCKER / "Dockerfile.api")) if k == "HEALTHCHECK"]
    assert urlparse(image_probe.split()[-1].strip('"')).path == "/health/ready"


@pytest.mark.parametrize("env", [{}, {"CRIME_WEATHER_NETWORK": "crime_weather_test_42"}])
def test_run_containers_join_the_compose_network(compose, services, instance, env):
    network = interpolate(compose["networks"]["default"]["name"], env)
    assert instance["run_launcher"]["config"]["network"] == {"env": "CRIME_WEATHER_DOCKER_NETWORK"}
    for name in ("code-location", "dagster-daemon", "dagster-webserver"):
        assert interpolate(environment(services[name])["CRIME_WEATHER_DOCKER_NETWORK"], env) == network


def test_run_containers_get_the_configured_memory_limit(services, env_example):
    """DockerRunLauncher merges the code location's container context into every run container."""
    from dagster_docker.container_context import DockerContainerContext

    raw = environment(services["code-location"])["DAGSTER_CONTAINER_CONTEXT"]
    for env, limit in (
        (env_example, env_example["CRIME_WEATHER_RUN_MEMORY_LIMIT"]),
        ({}, "4g"),
        ({"CRIME_WEATHER_RUN_MEMORY_LIMIT": "1536m"}, "1536m"),
    ):
        context = DockerContainerContext.create_from_config(json.loads(interpolate(raw, env)))
        assert context.container_kwargs == {"mem_limit": limit}


# --- environment and secrets ---------------------------------------------------------------------


def test_services_get_the_variables_they_read(services):
    for name, required in REQUIRED_ENV.items():
        missing = required - set(environment(services[name]))
        assert not missing, f"{name} lacks {sorted(missing)}"


def test_platform_reads_s3_and_postgres_from_the_environment(services, env_example, monkeypatch):
    """The code location's environment, read by the project's own settings object."""
    from crime_weather.core.settings import get_settings

    env = {
        key: interpolate(value, env_example) for key, value in environment(services["code-location"]).items()
    }
    assert env["CRIME_WEATHER_LANDING_URI"] == "s3://landing"
    assert env["CRIME_WEATHER_WAREHOUSE_URI"] == "s3://data"
    assert env["DAGSTER_POSTGRES_HOST"] == "postgres"
    assert env["DAGSTER_CURRENT_IMAGE"] == interpolate(services["code-location"]["image"], env_example)
    for name in list(os.environ):
        if name.startswith("CRIME_WEATHER_"):
            monkeypatch.delenv(name)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = get_settings()
    assert settings.landing == "s3://landing" and settings.warehouse == "s3://data"
    assert settings.s3_endpoint_url == "http://s3:8333"
    assert settings.tracking_uri == "http://mlflow:5001"
    assert settings.forecast_source == "official"
    # The retrain's budget left empty in .env: the settings' own defaults, written nowhere else.
    for field in ("search_trials", "search_timeout_seconds", "search_folds", "backtest_folds"):
        assert env[f"CRIME_WEATHER_{field.upper()}"] == ""
        assert getattr(settings, field) == type(settings).model_fields[field].default
    monkeypatch.setenv("CRIME_WEATHER_SEARCH_TRIALS", "7")
    assert get_settings().search_trials == 7


def test_settings_passed_through_default_to_the_settings_defaults(services):
    """A `CRIME_WEATHER_X: ${CRIME_WEATHER_X:-default}` is empty or the default of Settings.x."""
    from crime_weather.core.settings import Settings

    checked = set()
    for name in ("code-location", "acquisition", "api"):
        for key, value in environment(services[name]).items():
            field = key.removeprefix("CRIME_WEATHER_").lower()
            references = VAR_REF.fullmatch(value)
            if not references or references.group(1) != key or field not in Settings.model_fields:
                continue
            assert references.group(2) == ":-", f"{name}.{key}: optional, ${{{key}:-...}}"
            default = Settings.model_fields[field].default
            assert references.group(3) in ("", str(default)), f"{name}.{key}: Settings' default is {default}"
            checked.add(key)
    assert {"CRIME_WEATHER_SOURCE", "CRIME_WEATHER_FORECAST_SOURCE", "CRIME_WEATHER_SEARCH_TRIALS"} <= checked


def test_api_listens_on_every_interface_and_holds_only_its_read_only_key(services, env_example, monkeypatch):
    env = environment(services["api"])
    assert env["CRIME_WEATHER_API_HOST"] == "0.0.0.0"
    assert env["CRIME_WEATHER_API_PORT"] == "8800"
    assert env["CRIME_WEATHER_MLFLOW_TRACKING_URI"] == "http://mlflow:5001"
    leaked = {key for key in env if key.startswith(("DAGSTER_", "S3_", "POSTGRES_", "MLFLOW_S3"))}
    assert not leaked, f"the API gets models through the MLflow server, not {leaked}"
    # Its only secrets: the key s3-init makes read-only on the warehouse bucket, not the platform's.
    secrets_read = {
        ref for value in env.values() for ref, _, _ in VAR_REF.findall(value) if SECRET_NAME.search(ref)
    }
    assert secrets_read == {"S3_API_ACCESS_KEY", "S3_API_SECRET_KEY"}
    assert env["AWS_ACCESS_KEY_ID"].startswith("${S3_API_ACCESS_KEY:?")
    assert env["AWS_SECRET_ACCESS_KEY"].startswith("${S3_API_SECRET_KEY:?")
    init = environment(services["s3-init"])
    warehouse = urlparse(env["CRIME_WEATHER_WAREHOUSE_URI"])
    assert warehouse.scheme == "s3" and init["S3_API_BUCKETS"].split(",") == [warehouse.netloc]
    platform = environment(services["code-location"])
    assert env["CRIME_WEATHER_WAREHOUSE_URI"] == platform["CRIME_WEATHER_WAREHOUSE_URI"]
    assert env["CRIME_WEATHER_S3_ENDPOINT_URL"] == platform["CRIME_WEATHER_S3_ENDPOINT_URL"]
    assert "volumes" not in services["api"]

    from crime_weather.core.settings import get_settings
    from serving.settings import ApiSettings

    for name in list(os.environ):
        if name.startswith("CRIME_WEATHER_"):
            monkeypatch.delenv(name)
    for key, value in env.items():
        monkeypatch.setenv(key, interpolate(value, env_example))
    settings = get_settings()
    assert settings.warehouse == "s3://data" and settings.s3_endpoint_url == "http://s3:8333"
    assert ApiSettings().access_log is True, "compose logs every request as JSON"


def test_mlflow_stores_in_postgres_and_s3(services):
    env = environment(services["mlflow"])
    assert env["MLFLOW_ARTIFACTS_DESTINATION"] == "s3://mlflow"
    assert env["MLFLOW_S3_ENDPOINT_URL"] == "http://s3:8333"
    assert "mlflow:5001" in env["MLFLOW_SERVER_ALLOWED_HOSTS"], "other containers call it mlflow:5001"
    script = (DOCKER / "mlflow-server.sh").read_text(encoding="utf-8")
    assert "postgresql+psycopg2://" in script
    assert "MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false" in script and "--workers 1" in script


def test_no_literal_secrets(services):
    for name, service in services.items():
        values = {**environment(service), **(service.get("build") or {}).get("args", {})}
        for key, value in values.items():
            if SECRET_NAME.search(key):
                assert REQUIRED_REF.fullmatch(str(value)), (
                    f"{name}.{key} must be exactly ${{VAR:?message}} from .env, not {value!r}"
                )
            assert not CREDENTIALS_IN_URL.search(str(value)), f"{name}.{key}: credentials in a URL"
    assert "change-me" not in compose_text(), "placeholders belong in .env.example only"


def test_env_example_lists_every_variable_compose_reads_and_nothing_else(env_example):
    referenced = set(VAR_REF.findall(compose_text().replace("$$", "")))
    names = {name for name, _, _ in referenced}
    assert names == set(env_example), (
        f"missing from .env.example: {sorted(names - set(env_example))}; "
        f"unused: {sorted(set(env_example) - names)}"
    )
    for name, value in env_example.items():
        if SECRET_NAME.search(name):
            assert value.startswith("change-me"), f".env.example {name} must be a change-me placeholder"


def test_compose_substitutes_with_env_example_and_refuses_without_it(services, env_example):
    for service in services.values():
        for value in environment(service).values():
            interpolate(value, env_example)  # raises KeyError on a missing required variable
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        interpolate(environment(services["postgres"])["POSTGRES_PASSWORD"], {})


def test_env_is_git_ignored_and_kept_out_of_images():
    ignored = [line.strip() for line in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()]
    assert ".env" in ignored or "/.env" in ignored
    assert "!.env.example" in ignored or not any(
        fnmatch.fnmatchcase(".env.example", line) for line in ignored if line and not line.startswith("#")
    ), ".env.example must stay committed"
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for path in (
        ".env",
        ".venv/bin/python",
        ".git/config",
        ".data/landing/x.csv",
        "crime_weather_tests/x.py",
    ):
        assert not docker_context_includes(path, patterns), f"{path} would be sent to the Docker build"


# --- images --------------------------------------------------------------------------------------


def test_builds_use_the_dockerfiles_under_docker(services):
    dagster_images = {
        name: (service.get("image"), service.get("build"))
        for name, service in services.items()
        if "Dockerfile.dagster" in str(service.get("build"))
    }
    assert set(dagster_images) == DAGSTER_IMAGE_SERVICES
    assert len({repr(value) for value in dagster_images.values()}) == 1, "one Dagster image, built alike"
    assert services["api"]["build"]["dockerfile"] == "docker/Dockerfile.api"
    assert services["mlflow"]["build"]["dockerfile"] == "docker/Dockerfile.mlflow"
    for name, service in services.items():
        build = service.get("build")
        if build:
            assert build["context"] == "."
            assert build["dockerfile"].startswith("docker/") and (ROOT / build["dockerfile"]).is_file()
            with_code = name != "mlflow"
            assert ("CRIME_WEATHER_GIT_COMMIT" in build.get("args", {})) == with_code, f"{name}: commit arg"
        else:
            assert name in THIRD_PARTY
            # Pinned by version and digest: a tag can move, a digest cannot.
            assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", service["image"]), service["image"]


def test_mlflow_has_a_stable_image_without_the_code():
    """A code change rebuilds the Dagster and API images, not MLflow's: it never copies the code."""
    instructions = dockerfile(DOCKER / "Dockerfile.mlflow")
    copied = [a for k, a in instructions if k == "COPY"]
    assert not any(word in a for a in copied for word in ("crime_weather", "serving"))
    exports = [a for k, a in instructions if k == "RUN" and "uv export" in a]
    assert exports and "--only-group mlflow-server" in exports[0] and "--frozen" in exports[0]
    assert any(k == "RUN" and "--require-hashes" in a for k, a in instructions)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    group = {re.split(r"[<>=;\[ ]", item)[0] for item in pyproject["dependency-groups"]["mlflow-server"]}
    assert group == {"mlflow", "psycopg2-binary", "boto3"}
    final = final_stage(instructions)
    users = [a for k, a in final if k == "USER"]
    assert users and users[-1] not in ("root", "0")


def test_postgres_init_script_is_mounted(services):
    mounts = services["postgres"]["volumes"]
    script = next(m for m in mounts if "docker-entrypoint-initdb.d" in m)
    source = script.split(":")[0]
    assert (ROOT / source).is_file()
    text = (ROOT / source).read_text(encoding="utf-8")
    for name in REQUIRED_ENV["postgres"] - {"POSTGRES_PASSWORD"}:
        assert f"${name}" in text or f"${{{name}" in text, f"init script ignores {name}"


@pytest.mark.parametrize("name", ["Dockerfile.dagster", "Dockerfile.api", "Dockerfile.mlflow"])
def test_dockerfiles_take_their_base_as_an_argument_pinned_by_digest(name):
    """CI builds FROM a local Debian base (no registry there); the default is a pinned public image."""
    text = (DOCKER / name).read_text(encoding="utf-8")
    assert text.lstrip().startswith("#") and "# syntax=" not in text, "no frontend image to pull"
    instructions = dockerfile(DOCKER / name)
    assert instructions[0][0] == "ARG", "the base ARG comes before the first FROM"
    name_, _, default = instructions[0][1].partition("=")
    assert name_ == "PYTHON_IMAGE"
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", default), default
    bases = [a.split()[0] for k, a in instructions if k == "FROM" and "--from" not in a]
    assert bases and set(bases) == {"${PYTHON_IMAGE}"}, bases
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    uv_version = re.search(r"^UV_VERSION\s*:?=\s*(\S+)", makefile, re.MULTILINE).group(1)
    args = {a.split("=")[0]: a.partition("=")[2] for k, a in instructions if k == "ARG"}
    assert args.get("UV_VERSION") == uv_version, "uv pinned as in the Makefile"
    # Into a venv of its own: Debian's Python refuses `pip install` into itself (PEP 668).
    assert any(
        k == "RUN" and a.startswith("python3 -m venv /opt/uv") and '"uv==${UV_VERSION}"' in a
        for k, a in instructions
    )


@pytest.mark.parametrize(
    ("name", "platform_extra"), [("Dockerfile.dagster", True), ("Dockerfile.api", False)]
)
def test_dockerfiles(name, platform_extra):
    instructions = dockerfile(DOCKER / name)
    syncs = [a for k, a in instructions if k == "RUN" and "uv sync" in a]
    assert syncs and all("--frozen" in a and "--no-dev" in a for a in syncs)
    assert "--all-extras" not in " ".join(syncs)
    assert all(("--extra platform" in a) == platform_extra for a in syncs), "extras per image"

    final = final_stage(instructions)
    assert ("ARG", "CRIME_WEATHER_GIT_COMMIT=unknown") in final, "the commit ARG in the final stage"
    assert any(k == "ENV" and "CRIME_WEATHER_GIT_COMMIT=${CRIME_WEATHER_GIT_COMMIT}" in a for k, a in final)
    users = [a for k, a in final if k == "USER"]
    assert users and users[-1] not in ("root", "0"), "images run as an unprivileged user"
    healthchecks = [a for k, a in final if k == "HEALTHCHECK"]
    assert healthchecks and "NONE" not in healthchecks[-1].split()
    if platform_extra:
        # DockerRunLauncher runs `dagster api execute_run ...` as the container's command.
        assert not any(k == "ENTRYPOINT" for k, _ in final)
        assert ("COPY", "docker/dagster.yaml /opt/dagster/dagster_home/dagster.yaml") in final
        assert any(k == "ENV" and "DAGSTER_HOME=/opt/dagster/dagster_home" in a for k, a in final)

    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for keyword, arguments in instructions:
        if keyword == "COPY" and not arguments.startswith("--from"):
            for source in arguments.split()[:-1]:
                assert (ROOT / source).exists(), f"{name}: COPY {source} does not exist"
                assert docker_context_includes(source, patterns), f".dockerignore drops {source}"


def test_files_services_run_are_in_their_images(services):
    copied = {
        name: dockerfile(DOCKER / name)
        for name in ("Dockerfile.dagster", "Dockerfile.api", "Dockerfile.mlflow")
    }
    destinations: dict[str, set[str]] = {}
    for image, instructions in copied.items():
        for keyword, arguments in final_stage(instructions):
            if keyword == "COPY" and not arguments.startswith("--from"):
                *sources, target = arguments.split()
                for source in sources:
                    path = target + Path(source).name if target.endswith("/") else target
                    destinations.setdefault(image, set()).add(path)
    for name, service in services.items():
        build = service.get("build")
        if not build:
            continue
        image = Path(build["dockerfile"]).name
        items = [*service.get("command", []), *service.get("healthcheck", {}).get("test", [])]
        # ... and what the image runs by itself.
        items += [a for k, a in final_stage(copied[image]) if k in ("CMD", "HEALTHCHECK")]
        for word in (word for item in items for word in str(item).split()):
            if word.startswith("/opt/") and "." in Path(word).name:
                assert word in destinations[image], f"{name} uses {word}, which {image} does not copy"


# --- the Dagster instance and workspace the images carry -----------------------------------------


def _resolved(value: Any, env: dict[str, str]) -> Any:
    """An instance config value with its `{env: NAME}` references read from `env`."""
    if isinstance(value, dict):
        if set(value) == {"env"}:
            return env[value["env"]]
        return {key: _resolved(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolved(item, env) for item in value]
    return value


def test_dagster_instance_uses_postgres_and_the_docker_run_launcher(instance, services, monkeypatch):
    postgres = instance["storage"]["postgres"]["postgres_db"]
    for key in ("hostname", "port", "username", "password", "db_name"):
        assert set(postgres[key]) == {"env"}, f"storage.postgres.{key} comes from the environment"
    launcher = instance["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_docker", "DockerRunLauncher")
    assert instance["telemetry"]["enabled"] is False
    embedded = load_yaml(ROOT / "dagster.yaml")
    assert instance["run_coordinator"] == embedded["run_coordinator"], "same queue limits as make run"

    # Run containers get exactly the code location's settings, taken from the daemon's environment.
    env_vars = set(launcher["config"]["env_vars"])
    code_location_only = {"DAGSTER_CURRENT_IMAGE", "DAGSTER_CONTAINER_CONTEXT"}  # read by the code server
    assert env_vars == set(environment(services["code-location"])) - code_location_only
    assert env_vars <= set(environment(services["dagster-daemon"]))
    assert env_vars >= PLATFORM_ENV

    # Every {env: X} the instance reads is set on each Dagster process.
    references = set(re.findall(r"\{env: (\w+)\}", (DOCKER / "dagster.yaml").read_text(encoding="utf-8")))
    for name in ("code-location", "dagster-webserver", "dagster-daemon"):
        assert references <= set(environment(services[name])), f"{name} lacks {references}"

    # Each configurable class built from its config, as the daemon builds it (public constructors;
    # the real instance is loaded by the compose test, crime_weather_tests/compose/).
    examples = {"PORT": "5432", "URL": "http://s3:8333", "REGION": "us-east-1"}
    env = {key: next((v for end, v in examples.items() if key.endswith(end)), "x") for key in references}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for section in ("run_launcher", "run_coordinator", "compute_logs"):
        entry = instance[section]
        built = getattr(importlib.import_module(entry["module"]), entry["class"])(
            **_resolved(entry.get("config") or {}, env)
        )
        assert type(built).__name__ == entry["class"]


def test_workspace_points_at_the_code_location(services):
    workspace = load_yaml(DOCKER / "workspace.yaml")
    (entry,) = workspace["load_from"]
    server = entry["grpc_server"]
    assert server["host"] == "code-location" and server["host"] in services
    command = services["code-location"]["command"]
    assert str(server["port"]) == command[command.index("-p") + 1]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert server["location_name"] == pyproject["tool"]["dagster"]["code_location_name"]
    assert command[command.index("-m") + 1] == pyproject["tool"]["dagster"]["module_name"]
    for name in ("dagster-webserver", "dagster-daemon"):
        assert "/opt/dagster/app/docker/workspace.yaml" in services[name]["command"]


def test_the_root_files_stay_the_embedded_default():
    (entry,) = load_yaml(ROOT / "workspace.yaml")["load_from"]
    assert "python_module" in entry
    embedded = load_yaml(ROOT / "dagster.yaml")
    assert "storage" not in embedded, "SQLite under DAGSTER_HOME"
    launcher = embedded["run_launcher"]  # runs are local subprocesses, not containers
    assert (launcher["module"], launcher["class"]) == (
        "crime_weather.runtime.run_launcher",
        "LocalRunLauncher",
    )


# --- Docker Compose's own parser ------------------------------------------------------------------


def test_docker_compose_config_accepts_the_file():
    """Compose's own parser (no engine needed): the CLI on PATH, else the pinned one from PyPI."""
    from crime_weather_tests.compose.engine import EngineUnavailable, compose_command

    try:
        command = compose_command()
    except EngineUnavailable as reason:
        pytest.skip(str(reason))
    for profile in sorted(PROFILES):
        arguments = ["--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE_FILE), "--profile", profile]
        result = subprocess.run(
            [*command, *arguments, "config", "--quiet"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        assert result.returncode == 0, result.stderr

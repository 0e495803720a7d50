"""Security basics: no credential in the sources, loopback by default, models only from the registry
with our own list of trusted types, and every accepted vulnerability explained.

Also covered elsewhere: the compose file reads every secret from `.env` (test_compose.py
test_no_literal_secrets), a pickled model version is refused and no model file ships in the repository
(serving/test_model_store.py), and the running platform listens on loopback only (test_faults.py and
test_crashes.py, test_every_service_listens_on_loopback_only).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from sklearn.dummy import DummyRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from crime_weather.core.settings import Settings
from crime_weather.runtime.environment import platform_environment, prepare_home
from crime_weather.runtime.supervisor import services
from harness.models import promote_foreign_model, register_model, tracking_uri
from harness.processes import ROOT
from serving.model_store import ModelStore
from serving.settings import ApiSettings

# Names that hold a secret, and a literal given to one: `NAME = "x"`, `"NAME": "x"`, `NAME: "x"`,
# `setdefault("NAME", "x")`, and unquoted `NAME=x` in env and shell files.
SECRET_NAME = (
    r"[A-Za-z0-9_]*(?:password|passwd|secret|token|api_key|apikey|access_key|private_key)[A-Za-z0-9_]*"
)
QUOTED = r"f?[\"']([^\"'\n]*)[\"']"
LITERALS = [
    re.compile(rf"(?i)\b({SECRET_NAME})[\"']?\s*=\s*{QUOTED}"),
    re.compile(rf"(?i)\b({SECRET_NAME})[\"']?:\s*{QUOTED}"),
    re.compile(rf"(?i)(?:setdefault|setenv|putenv)\(\s*[\"']({SECRET_NAME})[\"']\s*,\s*{QUOTED}"),
]
ENV_VALUE = re.compile(rf"(?i)^\s*(?:export\s+)?({SECRET_NAME})=([^\s\"'#]+)")
TOKENS = {
    "an AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "a private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"),
    "a GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),
    "a Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "credentials in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://([^/\s:@'\"$]+):([^/\s@'\"$]+)@"),
}
# Values that are not credentials: empty, references and templates (${VAR:?...}, $VAR, {env: VAR},
# f"x-{token_hex()}"), names of variables (UPPER_CASE), the placeholders of .env.example ...
NOT_A_SECRET = re.compile(r"^(?:|[A-Z][A-Z0-9_]*|change-me.*|.*[${].*)$")
# ... and moto's documented dummy credentials.
TEST_DUMMIES = {"testing"}


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout.split(b"\0")
    files = []
    for name in filter(None, listed):
        path = ROOT / name.decode()
        if path.is_file() and b"\0" not in path.read_bytes()[:8192]:  # text only
            files.append(path)
    return files


def credential_findings(path: Path, text: str) -> list[str]:
    findings = []
    env_style = path.name.startswith(".env") or path.suffix in {".sh", ".env"}
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{path.relative_to(ROOT)}:{number}"
        for what, pattern in TOKENS.items():
            if pattern.search(line):
                findings.append(f"{where}: {what}")
        values = [m.groups() for pattern in LITERALS for m in pattern.finditer(line)]
        if env_style:
            values += [m.groups() for m in ENV_VALUE.finditer(line)]
        for name, value in values:
            if not NOT_A_SECRET.match(value) and value not in TEST_DUMMIES:
                findings.append(f"{where}: {name} = {value[:4]}... (a literal)")
    return findings


def test_the_scanner_finds_what_it_looks_for(tmp_path: Path):
    sample = tmp_path / "settings.py"
    fake_key = "AKIA" + "ABCDEFGHIJKLMNOP"
    text = (
        f'aws_access_key_id = "{fake_key}"\n'
        # Split so that this file, tracked itself, does not hold what the scanner looks for.
        "DB_PASS"
        'WORD = "hunter2"\n'
        'env.setdefault("AWS_SECRET_'
        'ACCESS_KEY", "s3cr3t")\n'
        'URL = "postgresql://app:'
        'pw123@db/app"\n'
        'password: str = "${DB_PASSWORD:?set it in .env}"\n'
        'os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")\n'
    )
    findings = credential_findings(ROOT / sample.name, text)
    flagged = {int(finding.split(":")[1]) for finding in findings}
    assert flagged == {1, 2, 3, 4}, findings  # not the reference (5) nor moto's dummy (6)


def test_no_credential_in_the_tracked_files():
    findings = [
        finding
        for path in tracked_text_files()
        for finding in credential_findings(path, path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert findings == [], "credentials belong in .env (git-ignored), not in the repository"


def test_the_embedded_default_binds_every_service_to_loopback(tmp_path: Path):
    """The commands `make run` starts (crime_weather/runtime/supervisor.py) with the default settings."""
    settings = Settings(home=tmp_path)
    prepare_home(settings)
    started = services(settings, platform_environment(settings))
    assert {service.name for service in started} == {"mlflow", "dagster", "api"}
    for service in started:
        command = service.command
        for flag in ("--host", "-h"):
            if flag in command:
                assert command[command.index(flag) + 1] == "127.0.0.1", service.name
        assert "0.0.0.0" not in " ".join(command) and "::" not in command, service.name
        assert service.ready_url.startswith("http://127.0.0.1:"), service.name
    by_name = {service.name: service.command for service in started}
    assert "--host" in by_name["mlflow"] and "-h" in by_name["dagster"]
    assert ApiSettings().host == "127.0.0.1"  # `python -m serving` listens on ApiSettings().host


def test_a_model_that_trusts_itself_is_refused(tmp_path: Path):
    """A skops model whose own MLmodel file lists extra trusted types (here `builtins.eval`, enough to
    run any code) loads with MLflow's own loader, but never in the API: it uses our list only."""
    uri = tracking_uri(tmp_path / "registry")
    register_model(uri, seed=1)
    store = ModelStore(uri, "crime_weather")
    assert store.refresh() and store.champion.version == "1"

    promote_foreign_model(
        uri,
        make_pipeline(FunctionTransformer(eval), DummyRegressor()),
        serialization_format="skops",
        skops_trusted_types=["builtins.eval"],  # the model file vouches for itself
    )
    assert not store.refresh()
    assert store.champion.version == "1"  # the last good model keeps serving
    assert "holds untrusted types ['builtins.eval']" in store.registry.error


UNSAFE_LOADERS = re.compile(
    r"\b(?:pickle\.loads?|cloudpickle\.loads?|joblib\.load|dill\.loads?|torch\.load"
    r"|mlflow\.(?:pyfunc|sklearn)\.load_model|trusted\s*=\s*True)\b|MLFLOW_ALLOW_PICKLE_DESERIALIZATION"
)


@pytest.mark.parametrize("package", ["crime_weather", "serving"])
def test_models_load_only_through_the_registry_loader(package: str):
    """The one way to load a model is crime_weather.modeling.registry.load_pipeline (skops, our list)."""
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if UNSAFE_LOADERS.search(line)
    ]
    assert offenders == []


def test_every_accepted_vulnerability_says_why():
    """`make audit` ignores the IDs in audit-exceptions.txt: each needs an ID and a reason."""
    lines = (ROOT / "audit-exceptions.txt").read_text(encoding="utf-8").splitlines()
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            identifier, _, reason = line.strip().partition(" ")
            assert re.fullmatch(r"(?:GHSA(?:-[a-z0-9]{4}){3}|PYSEC-\d{4}-\d+|CVE-\d{4}-\d+)", identifier), (
                line
            )
            assert len(reason.strip()) >= 20, f"{identifier}: say why it does not apply"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^test:.*\n(?:\t.*\n)*\t.*\$\(MAKE\)[^\n]*\baudit\b", makefile, re.MULTILINE)

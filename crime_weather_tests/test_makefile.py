"""The Makefile's own promises: `make help` lists the commands, `make up` checks what compose checks,
and uv installs where there is neither uv nor pip (tools/bootstrap_uv.py, against a fake index:
the internet is the only thing faked).

The newcomer's path itself (a PEP 668 system Python, no uv on PATH: `make install`) runs in .ci/run.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import re
import secrets
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOTSTRAP = ROOT / "tools" / "bootstrap_uv.py"


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_make_help_lists_the_commands_of_the_readme():
    result = make("help")
    assert result.returncode == 0, result.stderr
    listed = set(re.findall(r"^\s+([a-z-]+)\s", result.stdout, re.MULTILINE))
    assert {"run", "test", "up", "down", "install", "help"} <= listed
    assert make().stdout == result.stdout, "help is the default goal"


def test_make_help_lists_every_target_of_the_makefile():
    """A target without its `## ` description is missing from `make help`, so nobody finds it."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):(?!=)", makefile, re.MULTILINE))
    listed = set(re.findall(r"^\s+([a-z-]+)\s", make("help").stdout, re.MULTILINE))
    assert targets == listed, f"not in make help: {sorted(targets - listed)}"
    assert {"bench-effects", "bench-ingest", "retrain", "clean"} <= listed


def test_make_installs_with_python_3_11_only(tmp_path):
    """The README claims 3.11 alone (what CI and the images run): a PYTHON that is not 3.11 is not used;
    uv is asked for a 3.11 instead."""
    show = "show-uv-python: ; @echo '$(UV_PYTHON)'"
    fits = make(f"PYTHON={sys.executable}", "--eval", show, "show-uv-python")
    assert fits.stdout.strip() == f"--python {sys.executable}", fits.stderr
    missing = make(f"PYTHON={tmp_path / 'no-python'}", "--eval", show, "show-uv-python")
    assert missing.stdout.strip() == "--python 3.11", missing.stderr


def test_make_up_checks_the_secrets_compose_checks():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    block = re.search(r"^SECRETS := (.*?)(?:\n\n|\n[A-Z.])", makefile, re.MULTILINE | re.DOTALL).group(1)
    secrets = set(block.replace("\\", " ").split())
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    command = compose["services"]["check-env"]["command"]
    assert secrets == set(command[2:])


def check_env(env_file: Path, *names: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "docker" / "check_env.py"), "--env-file", str(env_file), *names]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})


def test_check_env_refuses_the_placeholders_and_odd_key_ids(tmp_path):
    """What `make up` runs on .env first, and compose's check-env in its container."""
    env_file = tmp_path / ".env"
    env_file.write_text((ROOT / ".env.example").read_text(encoding="utf-8"), encoding="utf-8")
    result = check_env(env_file, "POSTGRES_PASSWORD", "S3_APP_ACCESS_KEY", "S3_API_ACCESS_KEY")
    assert result.returncode == 1
    assert "POSTGRES_PASSWORD is still the placeholder 'change-me'" in result.stderr
    assert "S3_APP_ACCESS_KEY is still the placeholder 'change-me-app'" in result.stderr
    assert "S3_API_ACCESS_KEY is still the placeholder 'change-me-api'" in result.stderr

    password = secrets.token_hex(8)  # made here: no literal secret in the repository
    env_file.write_text(
        f"POSTGRES_PASSWORD={password}\nS3_APP_ACCESS_KEY=not-letters-only-0123\n", encoding="utf-8"
    )
    result = check_env(env_file, "POSTGRES_PASSWORD", "S3_APP_ACCESS_KEY", "S3_APP_SECRET_KEY")
    assert result.returncode == 1 and "POSTGRES_PASSWORD" not in result.stderr
    assert "S3_APP_ACCESS_KEY must be 16 to 128 letters and digits" in result.stderr
    assert "S3_APP_SECRET_KEY is not set" in result.stderr

    env_file.write_text(
        f"POSTGRES_PASSWORD='{password}'\nS3_APP_ACCESS_KEY=k{secrets.token_hex(8)}\n", encoding="utf-8"
    )
    assert check_env(env_file, "POSTGRES_PASSWORD", "S3_APP_ACCESS_KEY").returncode == 0
    assert check_env(tmp_path / "absent.env", "POSTGRES_PASSWORD").returncode == 1


# --- uv without pip --------------------------------------------------------------------------------


def fake_uv_wheel(version: str) -> bytes:
    """A wheel laid out as uv's: the binary under uv-VERSION.data/scripts/."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"uv-{version}.data/scripts/uv", f"#!/bin/sh\necho 'uv {version} (fake)'\n")
        archive.writestr(f"uv-{version}.dist-info/METADATA", f"Name: uv\nVersion: {version}\n")
    return buffer.getvalue()


@pytest.fixture
def fake_index(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A PEP 691 simple index on loopback offering uv 9.9.9 for this machine and another one."""
    sys.path.insert(0, str(BOOTSTRAP.parent))
    try:
        import bootstrap_uv
    finally:
        sys.path.remove(str(BOOTSTRAP.parent))
    system, arch = bootstrap_uv.platform_markers()
    root = tmp_path / "index"
    (root / "uv").mkdir(parents=True)
    wheel = fake_uv_wheel("9.9.9")
    name = f"uv-9.9.9-py3-none-{system}_2_17_{arch}.whl"
    (root / "uv" / name).write_bytes(wheel)
    other = "uv-9.9.9-py3-none-win_amd64.whl"
    (root / "uv" / other).write_bytes(b"not this one")
    listing = {
        "files": [
            {"filename": other, "url": other, "hashes": {"sha256": hashlib.sha256(b"x").hexdigest()}},
            {"filename": name, "url": name, "hashes": {"sha256": hashlib.sha256(wheel).hexdigest()}},
        ]
    }
    (root / "uv" / "index.html").write_text(json.dumps(listing), encoding="utf-8")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()


def bootstrap(index: str, target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BOOTSTRAP), "9.9.9", str(target)],
        env={"PATH": "/usr/bin:/bin", "UV_BOOTSTRAP_INDEX_URL": index},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bootstrap_installs_the_wheel_for_this_machine(fake_index, tmp_path):
    index, _ = fake_index
    result = bootstrap(index, tmp_path / "tools" / "uv")
    assert result.returncode == 0, result.stderr
    uv = tmp_path / "tools" / "uv" / "bin" / "uv"
    assert subprocess.run([str(uv)], capture_output=True, text=True).stdout.strip() == "uv 9.9.9 (fake)"


def test_bootstrap_refuses_a_wheel_whose_hash_differs(fake_index, tmp_path):
    index, root = fake_index
    (wheel,) = [p for p in (root / "uv").glob("*.whl") if "win" not in p.name]
    wheel.write_bytes(fake_uv_wheel("9.9.9") + b"tampered")
    result = bootstrap(index, tmp_path / "uv")
    assert result.returncode != 0 and "sha256 differs" in result.stderr
    assert not (tmp_path / "uv" / "bin" / "uv").exists()

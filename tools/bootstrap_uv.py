"""Install uv where there is no pip: its wheel from PyPI, checked against the index's sha256, unpacked.

`make` needs uv. Where it is not on PATH, the Makefile installs it into .tools/uv with
`pip install --target` (allowed on a PEP 668 system Python); this script is for systems whose Python
has no pip at all (a stock Debian or Ubuntu without python3-pip). Standard library only.

Usage: python3 tools/bootstrap_uv.py VERSION TARGET   (then TARGET/bin/uv)
The index is PyPI's simple API, or UV_BOOTSTRAP_INDEX_URL (PEP 691 JSON).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import sys
import urllib.request
import zipfile
from pathlib import Path

INDEX = os.environ.get("UV_BOOTSTRAP_INDEX_URL", "https://pypi.org/simple")
ARCHES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


def platform_markers() -> tuple[str, str]:
    """(the platform part a wheel's name must carry, its architecture) for this machine."""
    arch = ARCHES.get(platform.machine().lower())
    if arch is None:
        raise SystemExit(f"no uv wheel known for {platform.machine()}: install uv by hand")
    if sys.platform == "darwin":
        return "macosx", "arm64" if arch == "aarch64" else arch
    if sys.platform.startswith("linux"):
        return ("manylinux" if platform.libc_ver()[0] == "glibc" else "musllinux"), arch
    raise SystemExit(f"no uv wheel known for {sys.platform}: install uv by hand")


def choose(files: list[dict], version: str) -> dict:
    """The wheel of `version` for this machine, from the index's list of files."""
    system, arch = platform_markers()
    for file in files:
        name = file["filename"]
        if name.startswith(f"uv-{version}-") and name.endswith(".whl") and system in name and arch in name:
            return file
    raise SystemExit(f"uv {version} has no wheel for {system} {arch} on {INDEX}")


def fetch(url: str, accept: str | None = None) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=120) as response:
        return response.read()


def install(version: str, target: Path) -> Path:
    listing = json.loads(fetch(f"{INDEX.rstrip('/')}/uv/", "application/vnd.pypi.simple.v1+json"))
    wheel = choose(listing["files"], version)
    url = urllib.request.urljoin(f"{INDEX.rstrip('/')}/uv/", wheel["url"])
    data = fetch(url)
    expected = wheel["hashes"]["sha256"]
    if hashlib.sha256(data).hexdigest() != expected:
        raise SystemExit(f"{wheel['filename']}: sha256 differs from the index's {expected}")
    bin_dir = target / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.namelist():
            if member.startswith(f"uv-{version}.data/scripts/"):
                path = bin_dir / Path(member).name
                path.write_bytes(archive.read(member))
                path.chmod(0o755)
    uv = bin_dir / "uv"
    if not uv.exists():
        raise SystemExit(f"{wheel['filename']} holds no uv binary")
    return uv


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print(install(argv[0], Path(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

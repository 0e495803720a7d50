"""Installs the Debian packages the test suite needs when they are missing (`make test` runs it).

A fresh machine has Python, pip, make and apt only; the topology tests need real servers and the
page's test a real browser.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

# binary -> Debian package
PACKAGES: dict[str, str] = {
    # The compose topology run natively (test_topology.py): PostgreSQL server and psql.
    "initdb": "postgresql",
    "pg_ctl": "postgresql",
    "psql": "postgresql",
    # The page in a real browser (crime_weather_tests/serving/test_page.py): headless Chromium.
    "chromium": "chromium",
}

# Debian installs the server binaries per major version, off PATH (/usr/lib/postgresql/15/bin).
EXTRA_BIN_PATTERNS = ("/usr/lib/postgresql/*/bin",)


def extra_bin_dirs() -> list[str]:
    """Binary folders off PATH, newest PostgreSQL first."""
    found = [path for pattern in EXTRA_BIN_PATTERNS for path in glob.glob(pattern)]

    def version(path: str) -> tuple[int, ...]:
        name = os.path.basename(os.path.dirname(path))
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    return sorted(found, key=version, reverse=True)


def which(binary: str) -> str | None:
    """`binary` in Debian's versioned folders first (all from one version), then on PATH."""
    for folder in extra_bin_dirs():
        candidate = os.path.join(folder, binary)
        if os.access(candidate, os.X_OK):
            return candidate
    return shutil.which(binary)


def missing() -> list[str]:
    return sorted({package for binary, package in PACKAGES.items() if which(binary) is None})


def main() -> int:
    packages = missing()
    if not packages:
        return 0
    if os.geteuid() != 0:
        print(f"missing system packages {packages}; install them with apt (tests that need them skip)")
        return 0
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages], check=True, env=env
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

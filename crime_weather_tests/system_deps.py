"""Installs the Debian packages the test suite needs when they are missing (`make test` runs it).

A fresh machine has Python, pip, make and apt only; the topology tests need real servers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

# binary -> Debian package
PACKAGES: dict[str, str] = {}


def missing() -> list[str]:
    return sorted({package for binary, package in PACKAGES.items() if shutil.which(binary) is None})


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

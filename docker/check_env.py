"""Refuse to start with the placeholders of .env.example: passwords are set once, when the volumes
are created, so a `change-me` that reached PostgreSQL would stay there.

Compose runs it as the one-shot `check-env`, before PostgreSQL and the S3 server start (they wait for
it); `make up` runs it on the host first, for a quicker answer. Standard library only.

Usage: python check_env.py [--env-file .env] NAME...
Exit status 0 when every NAME is set and is not a placeholder, 1 otherwise (each problem printed).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

PLACEHOLDER = "change-me"
HINT = "set it in .env, e.g. to the output of `openssl rand -hex 24`"
# S3 access key ids: 16 to 128 letters and digits, like AWS's (SeaweedFS refuses other characters).
ACCESS_KEY = re.compile(r"[A-Za-z0-9]{16,128}")


def read_env_file(path: Path) -> dict[str, str]:
    """NAME=value lines, as compose reads them (comments and blank lines skipped, quotes removed)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def problems(names: list[str], env: dict[str, str]) -> list[str]:
    found = []
    for name in names:
        value = env.get(name, "")
        if not value:
            found.append(f"{name} is not set: {HINT}")
        elif value.lower().startswith(PLACEHOLDER):
            found.append(f"{name} is still the placeholder {value!r} from .env.example: {HINT}")
        elif name.endswith("_ACCESS_KEY") and not ACCESS_KEY.fullmatch(value):
            found.append(f"{name} must be 16 to 128 letters and digits, e.g. `openssl rand -hex 10`")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", type=Path, help="read the values from this file (shell wins)")
    parser.add_argument("names", nargs="+")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    if args.env_file is not None:
        if not args.env_file.is_file():
            print(
                f"{args.env_file} is missing: cp .env.example {args.env_file}, then replace every change-me"
            )
            return 1
        env = {**read_env_file(args.env_file), **env}
    found = problems(args.names, env)
    for problem in found:
        print(f"refusing to start: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

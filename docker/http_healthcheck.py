"""Container healthcheck: exit 0 when a URL answers below 400 in time, 1 otherwise.

The slim images have no curl or wget; this needs only the standard library.
Usage: python http_healthcheck.py URL [TIMEOUT_SECONDS]
"""

import sys
import urllib.error
import urllib.request


def check(url: str, timeout: float) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 0 if response.status < 400 else 1
    except (urllib.error.URLError, OSError, ValueError) as error:
        print(f"{url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(check(sys.argv[1], float(sys.argv[2]) if len(sys.argv) == 3 else 5.0))

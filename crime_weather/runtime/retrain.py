"""`make retrain`: split -> challenger -> champion now, in the instance and MLflow `make run` uses.

The run is recorded in the same Dagster instance (the UI shows it) and tracked in the same MLflow
server, through the environment `make run` gives its services.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from crime_weather.core.settings import PlatformSettings
from crime_weather.orchestration.sensors.retrain import RETRAINED
from crime_weather.runtime.environment import platform_environment, prepare_home


def main() -> int:
    settings = PlatformSettings()
    prepare_home(settings)
    dagster = Path(sys.executable).parent / "dagster"
    command = [str(dagster), "asset", "materialize", "-m", "crime_weather.definitions"]
    command += ["--select", ",".join(RETRAINED)]
    os.execve(command[0], command, {**os.environ, **platform_environment(settings)})


if __name__ == "__main__":
    sys.exit(main())

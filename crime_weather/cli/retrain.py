"""`crime-weather retrain`: submit a retrain run to the instance's queue and follow it with a spinner."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from crime_weather.core.settings import PlatformSettings
from crime_weather.runtime.environment import platform_environment, prepare_home


def submit_retrain(settings: PlatformSettings) -> tuple[str, str]:
    """Submit a run of the retrain job; returns its id and its first status line (QUEUED and why)."""
    import dagster as dg

    from crime_weather.runtime.retrain import _waiting_behind as reason
    from crime_weather.runtime.retrain import submit

    prepare_home(settings)
    os.environ.update(platform_environment(settings))
    run_id = submit(settings)
    with dg.DagsterInstance.get() as instance:
        run = instance.get_run_by_id(run_id)
        status = run.status.value if run else "UNKNOWN"
        detail = reason(instance, run_id) if status == dg.DagsterRunStatus.QUEUED.value else ""
    return run_id, f"{status}: {detail}" if detail else status


def follow_retrain(run_id: str, show: Callable[[str], None], poll_seconds: float = 2.0) -> str:
    """Follow the run until it ends, passing each status line to `show`; returns the final status."""
    import dagster as dg

    from crime_weather.runtime.retrain import follow

    with dg.DagsterInstance.get() as instance:
        return follow(instance, run_id, show, poll_seconds=poll_seconds).value


def progress(quiet: bool) -> tuple[Callable[[str], None], Callable[[], None]]:
    """(show a status line, stop): a live spinner on a terminal, plain lines on stderr otherwise,
    nothing with `--json` (stdout is for the JSON only)."""
    if quiet:
        return (lambda _line: None), (lambda: None)
    if sys.stderr.isatty():
        from rich.console import Console

        console = Console(stderr=True)
        spinner = console.status("retrain: submitted")
        spinner.start()

        def show(line: str) -> None:
            console.log(line)
            spinner.update(line)

        return show, spinner.stop
    return (lambda line: print(line, file=sys.stderr, flush=True)), (lambda: None)

"""`crime-weather`: run the platform, retrain, ask the API, see the platform's state.

Every command takes `--json` for scripts: the answer as JSON on stdout and nothing else there. A
failure is one line on stderr and exit code 1.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from crime_weather.cli.api import CliError, api_url, call
from crime_weather.core.names import COMUNAS, FORECAST_MAX_DAYS, WEATHER_FIELDS

JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")


def fails_in_one_line(command: Callable[..., None]) -> Callable[..., None]:
    """A CliError becomes one line on stderr and exit code 1, not a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except CliError as error:
            click.echo(f"crime-weather: {error}", err=True)
            sys.exit(1)

    return wrapper


def emit(answer: Any, as_json: bool, lines: Callable[[Any], list[str]]) -> None:
    click.echo(json.dumps(answer, indent=2) if as_json else "\n".join(lines(answer)))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--api-url",
    default=None,
    metavar="URL",
    help="The API's address (default: from CRIME_WEATHER_API_HOST/PORT, http://127.0.0.1:8800).",
)
@click.pass_context
def cli(context: click.Context, api_url: str | None) -> None:
    """crime_weather: robberies per comuna of Buenos Aires, from the weather."""
    context.obj = api_url


def _url(context: click.Context) -> str:
    return api_url(context.obj)


@cli.command()
def run() -> None:
    """The whole platform on this machine, in the foreground (Ctrl-C stops it)."""
    from crime_weather.runtime.supervisor import main

    sys.exit(main())


@cli.command()
@click.option("--no-follow", is_flag=True, help="Submit and return; do not wait for the run to end.")
@JSON_OPTION
@fails_in_one_line
def retrain(no_follow: bool, as_json: bool) -> None:
    """Retrain and promote now, through the run queue (one retrain at a time); needs `run` running."""
    from crime_weather.cli.retrain import follow_retrain, progress, submit_retrain
    from crime_weather.core.settings import PlatformSettings

    try:
        run_id, first = submit_retrain(PlatformSettings())
    except RuntimeError as error:
        raise CliError(f"the retrain could not be submitted: {str(error).splitlines()[0]}") from error
    if not as_json:
        click.echo(f"submitted retrain run {run_id}: {first}")
    status = first.split(":")[0]
    if not no_follow:
        show, stop = progress(quiet=as_json)
        try:
            status = follow_retrain(run_id, show)
        except KeyboardInterrupt:
            stop()
            click.echo(f"stopped following; run {run_id[:8]} goes on (the Dagster UI shows it)", err=True)
            sys.exit(130)
        stop()
    if as_json:
        click.echo(json.dumps({"run_id": run_id, "status": status, "detail": first}))
    elif not no_follow:
        click.echo(f"retrain run {run_id[:8]} ended: {status}")
    if status in ("FAILURE", "CANCELED"):
        sys.exit(1)


def _weather_options(command: Callable[..., None]) -> Callable[..., None]:
    for name in reversed(WEATHER_FIELDS):
        flag = "--" + name.replace("_", "-")
        command = click.option(flag, name, type=float, default=None, help=f"{name} (unknown if absent)")(
            command
        )
    return command


def _interval(prediction: dict, name: str) -> str:
    interval = prediction.get(name)
    return f"{interval['low']:.1f}-{interval['high']:.1f}" if interval else "n/a"


def _prediction_lines(answer: dict) -> list[str]:
    head = f"{answer['expected_robberies']:.2f} expected robberies"
    return [
        f"{head} (80 %: {_interval(answer, 'interval_80')}, 95 %: {_interval(answer, 'interval_95')}); "
        f"horizon {answer.get('horizon_days')} days, model v{answer.get('model_version')}"
    ]


@cli.command()
@click.option("--date", "day", required=True, type=click.DateTime(["%Y-%m-%d"]), help="YYYY-MM-DD")
@click.option("--comuna", required=True, type=click.IntRange(COMUNAS[0], COMUNAS[-1]))
@_weather_options
@JSON_OPTION
@click.pass_context
@fails_in_one_line
def predict(
    context: click.Context, day: datetime.datetime, comuna: int, as_json: bool, **weather: Any
) -> None:
    """Expected robberies in a comuna on a day, given its weather (POST /predict of the running API)."""
    body = {"date": day.date().isoformat(), "comuna": comuna, **weather}
    emit(call(_url(context), "POST", "/predict", json=body), as_json, _prediction_lines)


def _forecast_lines(answer: dict) -> list[str]:
    lines = [
        f"forecast issued for {answer['issue_date']} by model v{answer['model_version']} "
        f"(weather: {answer['weather_source']})"
    ]
    for row in answer["rows"]:
        lines.append(
            f"  {row['date']} comuna {row['comuna']:>2}: {row['expected_robberies']:6.2f} "
            f"(80 %: {_interval(row, 'interval_80')}, 95 %: {_interval(row, 'interval_95')})"
        )
    return lines


@cli.command()
@click.option("--comuna", type=click.IntRange(COMUNAS[0], COMUNAS[-1]), default=None)
@click.option("--days", type=click.IntRange(1, FORECAST_MAX_DAYS), default=None)
@JSON_OPTION
@click.pass_context
@fails_in_one_line
def forecast(context: click.Context, comuna: int | None, days: int | None, as_json: bool) -> None:
    """The latest robbery forecast for the coming days (GET /forecast)."""
    answer = call(_url(context), "GET", "/forecast", params={"comuna": comuna, "days": days})
    emit(answer, as_json, _forecast_lines)


@cli.command()
@JSON_OPTION
@click.pass_context
@fails_in_one_line
def status(context: click.Context, as_json: bool) -> None:
    """The champion, the age of the newest crime month and the last Dagster runs."""
    from crime_weather.cli.status import describe, gather
    from crime_weather.core.settings import get_settings

    emit(gather(_url(context), get_settings()), as_json, describe)


@cli.command()
@click.option("--month", default=None, metavar="YYYY-MM")
@click.option("--version", default=None, help="A model version.")
@click.option("--horizon", type=int, default=None, help="Horizon in days.")
@JSON_OPTION
@click.pass_context
@fails_in_one_line
def scorecard(
    context: click.Context, month: str | None, version: str | None, horizon: int | None, as_json: bool
) -> None:
    """How past predictions fared against the robberies that came (GET /scorecard)."""
    params = {"month": month, "version": version, "horizon": horizon}
    answer = call(_url(context), "GET", "/scorecard", params=params)
    emit(answer, as_json, lambda body: [json.dumps(body, indent=2)])

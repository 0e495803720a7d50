"""What the page shows, gathered from the API's readers; each section holds its data or says why not.

Nothing here raises for missing data: a section without data carries the reason the page prints (no
champion yet, no forecast yet, no effects yet, no comunas file, nothing scored yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from serving.boundaries_reader import BoundariesReader
from serving.comuna_map import ComunaMap
from serving.effects_reader import EffectsReader
from serving.errors import Refused
from serving.forecast_reader import ForecastReader
from serving.model_store import ModelStore
from serving.page.champion import ChampionCard, VerdictReader, champion_card
from serving.page.forecast_view import ForecastView, forecast_view
from serving.structs.responses import WeatherEffects

NO_FORECAST = (
    "no forecast yet: one is issued every morning, after every promotion of a champion, and when a "
    "weather forecast file lands in the landing zone"
)
NO_MAP = (
    "the map needs the comunas file: drop BA Data's comunas GeoJSON into the landing zone and the "
    "comuna_boundaries asset stores it in the warehouse (comuna_boundaries/comunas.geojson)"
)
NO_SCORECARD = "no scorecard yet: this API has no scorecard reader (GET /scorecard is not served)"
SCORECARD_ROWS = 24


@dataclass(frozen=True)
class ScoreLine:
    """One stored grade of a claim, as the page lists it."""

    month: str
    source: str
    source_key: str
    horizon: str
    n: int
    deviance: float
    naive_deviance: float | None
    coverage_80: float


@dataclass(frozen=True)
class Page:
    champion: ChampionCard | None
    champion_reason: str | None
    forecast: ForecastView | None
    forecast_reason: str | None
    comuna_map: ComunaMap | None
    map_reason: str | None
    effects: WeatherEffects | None
    effects_reason: str | None
    scores: list[ScoreLine] | None
    scores_reason: str | None


def _why(error: Exception, what: str) -> str:
    if isinstance(error, Refused):
        return str(error.reason or error.detail)
    return f"{what} cannot be read ({type(error).__name__})"


def gather(
    store: ModelStore,
    forecasts: ForecastReader,
    effects: EffectsReader,
    boundaries: BoundariesReader,
    verdicts: VerdictReader,
    scorecards: Any,
    day: str | None,
) -> Page:
    """Every section of the page; blocking reads (warehouse, MLflow): call it off the event loop."""
    champion = store.champion
    card, card_reason = None, None
    if champion is None:
        card_reason = f"no champion loaded: {store.problem}"
    else:
        card = champion_card(champion, verdicts)

    view, view_reason = None, None
    try:
        latest = forecasts.latest()
        if latest is None:
            view_reason = NO_FORECAST
        else:
            view = forecast_view(*latest, day)
    except Exception as error:  # an unreachable bucket, a damaged file: the rest of the page still shows
        view_reason = _why(error, "the forecast")

    comuna_map, map_reason = None, None
    try:
        comuna_map = boundaries.current()
        map_reason = NO_MAP if comuna_map is None else None
    except Exception as error:
        map_reason = f"{_why(error, 'the comunas file')}; {NO_MAP}"

    found, effects_reason = None, None
    if champion is None:
        effects_reason = "no effects yet: no champion is loaded"
    else:
        try:
            found = effects.get(champion)
        except Exception as error:
            effects_reason = f"no effects yet: {_why(error, 'the effects')}"

    scores, scores_reason = _scores(scorecards)
    return Page(
        card,
        card_reason,
        view,
        view_reason,
        comuna_map,
        map_reason,
        found,
        effects_reason,
        scores,
        scores_reason,
    )


def _scores(scorecards: Any) -> tuple[list[ScoreLine] | None, str | None]:
    """The stored grades, newest month first, through the scorecard reader when the API has one."""
    if scorecards is None:
        return None, NO_SCORECARD
    try:
        # Imported here: the module exists only where the API serves GET /scorecard.
        from serving.scorecard_reader import scorecard_response

        rows = scorecard_response(scorecards.current(), None).rows
    except Exception as error:
        return None, f"no scorecard yet: {_why(error, 'the scorecard')}"
    ordered = sorted(rows, key=lambda row: (row.month, row.source, row.horizon), reverse=True)
    return [
        ScoreLine(
            month=row.month,
            source=row.source,
            source_key=row.source_key,
            horizon=f"{row.horizon} {row.horizon_unit}{'' if row.horizon == 1 else 's'}",
            n=row.n,
            deviance=row.poisson_deviance,
            naive_deviance=row.best_naive_poisson_deviance,
            coverage_80=row.coverage_80,
        )
        for row in ordered[:SCORECARD_ROWS]
    ], None

"""Everything the API answers: predictions, the model and its health, weather effects, forecasts, and
problem details, with the constraints the OpenAPI schema states."""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from crime_weather.core.names import COMUNAS


class Interval(Struct):
    """A central Poisson prediction interval of the count around the expected robberies
    (crime_weather/modeling/estimation/intervals.py): robbery counts, both ends included. On the backtest the
    80 % and 95 % intervals cover 80 % and 95 % of the observed counts. /predict, /predict/batch and
    /forecast share this shape."""

    low: Annotated[int, Meta(ge=0)]
    high: Annotated[int, Meta(ge=0)]


class Prediction(Struct):
    expected_robberies: Annotated[float, Meta(ge=0, description="Expected number of robberies that day.")]
    model_version: Annotated[str, Meta(description="Registered version of the model that answered.")]
    interval_80: Annotated[Interval, Meta(description="80 % prediction interval of the count.")]
    interval_95: Annotated[Interval, Meta(description="95 % prediction interval of the count.")]
    horizon_days: Annotated[
        int,
        Meta(
            description="Days from the model's last day of crime data (`data_through`, GET /model) to the date; "
            "<= 0 inside its history."
        ),
    ]


class RowPrediction(Struct):
    expected_robberies: Annotated[float, Meta(ge=0)]
    interval_80: Annotated[Interval, Meta(description="80 % prediction interval of the count.")]
    interval_95: Annotated[Interval, Meta(description="95 % prediction interval of the count.")]
    horizon_days: Annotated[
        int,
        Meta(
            description="Days from the model's last day of crime data (`data_through`, GET /model) to the date; "
            "<= 0 inside its history."
        ),
    ]


class BatchPrediction(Struct):
    predictions: Annotated[list[RowPrediction], Meta(description="One per observation, in request order.")]
    model_version: str


class Promotion(Struct):
    """How the champion got there: the paired backtest difference (challenger - champion, mean Poisson
    deviance per comuna-day) with its 95 % CI, on the folds it names."""

    decision: Annotated[str, Meta(description="promoted, refreshed or kept.")]
    reason: str
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    folds: Annotated[list[str], Meta(description="The backtest months (YYYY-MM) compared on.")]
    previous_champion: str | None


class HorizonBacktest(Struct):
    """The champion's backtest at one horizon month (claims 1..6 months after its data end): its MLflow
    run's `backtest_h{h}_*` metrics; null where the run has none."""

    horizon_months: Annotated[int, Meta(ge=1)]
    poisson_deviance: float | None
    pred_over_obs: float | None
    coverage_80: float | None
    coverage_95: float | None
    best_naive_poisson_deviance: float | None


class ModelInfo(Struct):
    """The champion and its lineage: back to the MLflow run, the Dagster run and the months it saw."""

    version: str
    run_id: str
    promoted_at: str | None
    metrics: Annotated[dict[str, float | None], Meta(description="The run's metrics; null if not finite.")]
    trained_months: list[str]
    dagster_run_id: str | None
    history_end: Annotated[
        str | None,
        Meta(
            description="Last day (YYYY-MM-DD) of robberies the model's level rests on; later dates get this level."
        ),
    ] = None
    model_config: Annotated[
        dict[str, Any] | None, Meta(description="Family, level spec, features and hyperparameters.")
    ] = None
    promotion: Promotion | None = None
    data_through: Annotated[
        datetime.date | None,
        Meta(description="The last day of crime data the champion was trained on; horizons count from it."),
    ] = None
    max_horizon_days: Annotated[
        int | None, Meta(description="Dates more than this many days after data_through are refused (422).")
    ] = None
    backtest: Annotated[
        list[HorizonBacktest],
        Meta(description="The backtest per horizon month, as far as the run logged it (empty: none)."),
    ] = []
    model_card: Annotated[
        str | None,
        Meta(
            description="The version's model card (markdown, its MLflow description): data, accuracy per "
            "horizon with CIs, the weather verdict, intended use and limits; null until written."
        ),
    ] = None


class Health(Struct):
    """Ready once a champion is loaded; the registry's state is reported, not required."""

    status: Literal["ready", "unavailable"]
    reason: str | None
    model_version: str | None
    registry_reachable: Annotated[bool | None, Meta(description="null before the first contact.")]
    registry_error: str | None = None
    registry_checked_at: datetime.datetime | None = None


class Liveness(Struct):
    """The process answers: nothing else is checked (a liveness probe restarts what fails it)."""

    status: Literal["live"] = "live"


class FieldProblem(Struct):
    """One refused input field and why (a 422 names every offending row this way)."""

    field: Annotated[str, Meta(examples=["observations[3].date"])]
    reason: str


class Problem(Struct):
    """Every refusal and error, as RFC 9457 problem details (`application/problem+json`).

    `type` is one of the problem types of serving/errors.py (`about:blank` for a plain HTTP status,
    its `title` then the status phrase); `field` and `reason` are extension members: the field at fault
    (null for the whole body) and what is wrong with it, as the API's errors always carried them.
    """

    type: Annotated[str, Meta(description="URI of the problem type; `about:blank`: the status says it all.")]
    title: Annotated[
        str, Meta(description="Short summary of the problem type, the same for every occurrence.")
    ]
    status: Annotated[int, Meta(ge=400, le=599, description="The HTTP status code of this response.")]
    detail: Annotated[str, Meta(description="What went wrong with this request, in a sentence.")]
    field: Annotated[
        str | None, Meta(description="The input field at fault (`observations[3].temp_max`); null: none.")
    ] = None
    reason: Annotated[
        str | None, Meta(description="Why the input was refused; null when not an input problem.")
    ] = None
    errors: Annotated[
        list[FieldProblem] | None,
        Meta(description="Every offending field when there are several (422: each date refused); else null."),
    ] = None


class EffectRow(Struct):
    """One contrast of the weather-effects GLM: how much more (> 1) or less (< 1) robbery it goes with."""

    group: Annotated[Literal["weather", "calendar"], Meta(description="calendar: the holiday, for scale.")]
    model: Annotated[
        str, Meta(description="Specification: main, rain amount (main + log1p rain) or temperature bins.")
    ]
    variable: str
    contrast: Annotated[str, Meta(examples=["rain >= 1 mm vs drier days"])]
    rate_ratio: Annotated[float, Meta(gt=0, description="Robberies with / without the contrast.")]
    ci_low: Annotated[float, Meta(gt=0, description="95 % CI, errors clustered by day.")]
    ci_high: Annotated[float, Meta(gt=0)]
    p_value: Annotated[float, Meta(ge=0, le=1)]
    days: Annotated[int, Meta(ge=0, description="Days in the contrast (with a value, if continuous).")]
    reference_days: Annotated[int | None, Meta(description="Days it is compared with, if a category.")]
    change_per_comuna_day: Annotated[float, Meta(description="Robberies, at the sample's mean rate.")]
    change_per_city_day: Annotated[float, Meta(description="The same for all 15 comunas together.")]
    verdict: Annotated[str, Meta(description="An effect is called only when its CI excludes 1.")]


class ComunaRainEffect(Struct):
    """Rain >= 1 mm in one comuna (rain interacted with comuna)."""

    comuna: int
    rate_ratio: Annotated[float, Meta(gt=0)]
    ci_low: Annotated[float, Meta(gt=0)]
    ci_high: Annotated[float, Meta(gt=0)]
    p_value: Annotated[float, Meta(ge=0, le=1)]
    rain_days: int
    mean_per_day: Annotated[float, Meta(description="The comuna's mean robberies per day in the sample.")]
    change_per_day: Annotated[float, Meta(description="Robberies on a rainy day vs a dry one.")]
    verdict: str


class EffectsEstimation(Struct):
    """How the effects were estimated: family, overdispersion, sample, fixed effects, caveats."""

    family: str
    overdispersion: Annotated[float, Meta(description="Pearson chi2 / df of the Poisson fit.")]
    nb_alpha: float | None
    first_day: datetime.date
    last_day: datetime.date
    sample_days: int
    comuna_days: int
    excluded_days: Annotated[int, Meta(description="Days without the weather the model needs.")]
    excluded_months: list[str]
    sample_note: str
    mean_per_comuna_day: float
    mean_per_city_day: float
    fixed_effects: str
    clustered_by: str
    clusters: int
    weather_terms: list[str]
    dropped_terms: dict[str, str]
    rain_day_mm: float
    temperature_normal: str
    rain_heterogeneity_p: Annotated[
        float | None, Meta(description="Wald test that rain has one effect in every comuna.")
    ]
    rainy_day_anomaly: Annotated[
        float | None, Meta(description="°C by which rainy days are warmer than drier ones (vs the normal).")
    ]
    converged: bool
    statsmodels: str
    caveats: list[str]


class WeatherEffects(Struct):
    """What the weather does to robberies: the champion's `weather_effects.json`, refit at each retrain."""

    model_version: Annotated[str, Meta(description="The champion whose MLflow run holds these effects.")]
    run_id: str
    computed_at: datetime.datetime | None
    dagster_run_id: str | None
    effects: list[EffectRow]
    by_comuna: list[ComunaRainEffect]
    estimation: EffectsEstimation


class ForecastRow(Struct):
    """One (day, comuna) of the forecast and the forecast weather it was predicted from."""

    date: Annotated[datetime.date, Meta(description="The forecast day.")]
    comuna: Annotated[int, Meta(ge=COMUNAS[0], le=COMUNAS[-1])]
    horizon_days: Annotated[
        int | None, Meta(description="Days from the champion's last day of crime data (data_through).")
    ]
    expected_robberies: Annotated[
        Annotated[float, Meta(ge=0)] | None,
        Meta(description="The champion's expected count; null beyond max_horizon_days (see reason)."),
    ]
    interval_80: Annotated[Interval | None, Meta(description="80 % prediction interval of the count.")]
    interval_95: Annotated[Interval | None, Meta(description="95 % prediction interval of the count.")]
    reason: Annotated[str | None, Meta(description="Why there is no count (beyond the horizon); else null.")]
    weather_rate_ratio: Annotated[
        Annotated[float, Meta(gt=0)] | None,
        Meta(
            description="The champion's prediction under the forecast weather / under normal weather "
            "(day-of-year normals), same comuna-day: relative, so given at any horizon."
        ),
    ]
    weather_rate_ratio_low: Annotated[float | None, Meta(description="95 % CI; null when not available.")]
    weather_rate_ratio_high: float | None
    temp_mean: float | None
    temp_min: float | None
    temp_max: float | None
    precipitation_mm: float | None
    humidity_pct: float | None
    wind_speed_kmh: float | None
    pressure_hpa: float | None


class Forecast(Struct):
    """The latest issue: what was forecast, with which model and from which weather forecast."""

    issue_date: Annotated[
        datetime.date, Meta(description="The day the forecast was issued for (its first day).")
    ]
    issued_at: Annotated[datetime.datetime, Meta(description="When it was computed (UTC).")]
    model_version: Annotated[str, Meta(description="Registered version of the champion that predicted it.")]
    weather_source: Annotated[
        str, Meta(description="Where the weather forecast came from: a file's name or open-meteo.")
    ]
    data_through: Annotated[
        datetime.date | None,
        Meta(description="The champion's last day of crime data: horizons count from it."),
    ]
    max_horizon_days: Annotated[
        int, Meta(description="Rows further than this from data_through have no counts, only the ratio.")
    ]
    rows: Annotated[list[ForecastRow], Meta(description="Day by day, comuna 1..15 within a day.")]


class NaiveScore(Struct):
    """A naive level issued with an outlook (the comuna x weekday mean over the last n days of data
    known then), scored on the same comuna-days as the claim."""

    poisson_deviance: Annotated[float, Meta(ge=0)]
    mae: Annotated[float, Meta(ge=0)]
    pred_over_obs: float | None


class ScorecardRow(Struct):
    """One stored claim source at one horizon on one month, graded against the observed counts."""

    month: Annotated[str, Meta(examples=["2019-07"], description="The scored month (YYYY-MM).")]
    source: Annotated[
        Literal["outlook", "forecast"],
        Meta(description="outlook: a champion's claim made at its promotion; forecast: a daily issue."),
    ]
    source_key: Annotated[str, Meta(description="The outlook's model version, or the forecast's issue date.")]
    model_version: Annotated[str, Meta(description="Registered version of the model that claimed it.")]
    issued_at: Annotated[datetime.datetime, Meta(description="When the claim was made (UTC).")]
    horizon_unit: Annotated[Literal["month", "day"], Meta(description="month: outlooks; day: forecasts.")]
    horizon: Annotated[
        int, Meta(ge=1, description="Horizon month (1..6) after the model's data, or lead day (1..7).")
    ]
    n: Annotated[int, Meta(ge=1, description="Comuna-days scored.")]
    observed_robberies: Annotated[float, Meta(ge=0)]
    expected_robberies: Annotated[float, Meta(ge=0, description="What the claims summed to.")]
    poisson_deviance: Annotated[float, Meta(ge=0, description="Mean Poisson deviance per comuna-day.")]
    mae: Annotated[float, Meta(ge=0, description="Mean absolute error per comuna-day.")]
    pred_over_obs: Annotated[
        float | None, Meta(description="Expected / observed robberies; null when none was observed.")
    ]
    coverage_80: Annotated[float, Meta(ge=0, le=1, description="Share of counts inside the 80 % interval.")]
    coverage_95: Annotated[float, Meta(ge=0, le=1, description="Share of counts inside the 95 % interval.")]
    naive: Annotated[
        dict[str, NaiveScore],
        Meta(
            description="Each naive level issued with the claim, by name (naive_28d ...); {} for forecasts."
        ),
    ]
    best_naive: Annotated[str | None, Meta(description="The naive level with the lowest deviance.")]
    best_naive_poisson_deviance: float | None


class ForecastScorecard(Struct):
    """forecast_scorecard as stored: every claim the platform made, graded as the truth landed."""

    scored_months: Annotated[list[str], Meta(description="Every month holding a score (YYYY-MM).")]
    serving_champion: Annotated[
        str | None, Meta(description="The version served now (the gauges' version); null: none loaded.")
    ]
    rows: Annotated[
        list[ScorecardRow], Meta(description="By month, source, source key and horizon; filtered if asked.")
    ]

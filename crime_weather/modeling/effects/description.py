"""How the effects were estimated, as the JSON's `model` block (and GET /effects' `estimation`)
says it: family, sample, fixed effects, what was dropped and why, caveats."""

from __future__ import annotations

from typing import Any

import pandas as pd
import statsmodels

from crime_weather.core.names import TARGET
from crime_weather.modeling.effects.adequacy import MIN_EVENTS, MIN_EVENTS_PER_PARAMETER
from crime_weather.modeling.effects.fit import Family
from crime_weather.modeling.effects.sample import Sample
from crime_weather.modeling.effects.terms import RAIN_DAY_MM

CAVEATS = (
    "One weather station for the whole city: a shower over one comuna and not another is invisible.",
    "Daily aggregation: rain at 3 am and at 6 pm count the same; hours are not modelled.",
    "Displacement is not modelled: robberies a rainy day prevents may happen on another day.",
    "Associations, not experiments: the fixed effects remove season, weekday and level, "
    "not every confounder (e.g. events scheduled by forecast).",
    "About a dozen contrasts are tested: one in twenty null effects excludes 1 by chance.",
)


def describe(
    sample: Sample,
    family: Family,
    fitted: Any,
    heterogeneity: float | None,
    main: pd.DataFrame,
) -> dict[str, Any]:
    """The `model` block: everything needed to read the table, strict JSON."""
    rows = sample.rows
    excluded = sample.excluded_days
    sample_days = rows["date"].nunique()
    mean = float(rows[TARGET].mean())
    note = (
        f"{len(excluded)} of {sample.all_days} days have no "
        f"{' / '.join(sorted(t.field for t in sample.terms if t.field))} and leave the weather model's "
        f"sample (months {', '.join(_compact(_months(excluded)))})"
        if len(excluded)
        else "every day has the weather the model needs"
    )
    holiday = ", public holiday" if sample.holiday else ""
    return {
        "family": family.name,
        "overdispersion": round(family.dispersion, 4),
        "nb_alpha": family.alpha,
        "first_day": f"{rows['date'].min():%Y-%m-%d}",
        "last_day": f"{rows['date'].max():%Y-%m-%d}",
        "sample_days": int(sample_days),
        "comuna_days": len(rows),
        "excluded_days": len(excluded),
        "excluded_months": _months(excluded),
        "sample_note": note,
        "mean_per_comuna_day": round(mean, 4),
        "mean_per_city_day": round(mean * rows["comuna"].nunique(), 4),
        "robberies": int(rows[TARGET].sum()),
        "parameters": int(main.shape[1]),
        "adequacy": f"checked before fitting: at least {MIN_EVENTS} robberies in every comuna x weekday "
        f"cell and behind every indicator term, {MIN_EVENTS_PER_PARAMETER} per parameter, a full-rank design",
        "fixed_effects": f"comuna x weekday, calendar month{holiday}, cubic spline of time "
        f"({sum(c.startswith('trend_') for c in main.columns)} basis functions, one knot per quarter)",
        "clustered_by": "day",
        "clusters": int(sample_days),
        "weather_terms": [t.variable for t in sample.terms],
        "dropped_terms": sample.dropped,
        "rain_day_mm": RAIN_DAY_MM,
        "temperature_normal": "the model's day-of-year normal: least squares const + cos/sin(2 pi k (doy - 1) / 365.25), k = 1, 2 (a constant under a year of data)",
        "rain_heterogeneity_p": heterogeneity,
        "rainy_day_anomaly": round(_rainy_day_anomaly(rows), 3),
        "converged": bool(fitted.converged),
        "statsmodels": statsmodels.__version__,
        "caveats": list(CAVEATS),
    }


def _months(days: pd.DatetimeIndex) -> list[str]:
    return sorted({f"{day:%Y-%m}" for day in days})


def _rainy_day_anomaly(rows: pd.DataFrame) -> float:
    """How much warmer (°C, vs the normal) rainy days are than drier ones: why adjustment matters."""
    days = rows.drop_duplicates("date")
    return float(days.groupby("rain_day")["temp_anomaly"].mean().reindex([1.0, 0.0]).diff().iloc[-1] * -1)


def _compact(months: list[str]) -> list[str]:
    """Consecutive months as ranges: ['2016-01..2016-12'] rather than twelve names."""
    periods = [pd.Period(month, "M") for month in months]
    spans: list[list[pd.Period]] = []
    for period in periods:
        if spans and period == spans[-1][-1] + 1:
            spans[-1].append(period)
        else:
            spans.append([period])
    return [f"{span[0]}" if len(span) == 1 else f"{span[0]}..{span[-1]}" for span in spans]

"""What the weather does to robberies: rate ratios from a count GLM with fixed effects (README, "What the weather does to robberies").

The predictive model answers "how many"; this answers "what does rain (heat, wind...) change", with a
95 % CI. Robberies per (date, comuna) ~ Poisson or negative binomial (chosen by the data's
overdispersion) with fixed effects for comuna x weekday and calendar month, public holidays and a
cubic spline of time (the level moves), plus the day's weather. Weather is one value per day for the
whole city, so errors are clustered by day (statsmodels' sandwich estimator): 15 comunas on one rainy
day are one observation of rain, not fifteen.

Three specifications share those fixed effects:
- main: rain >= 1 mm, temperature anomaly against the day-of-year normal, humidity, wind;
- rain amount: main + log1p(rain mm), the dose beyond the rain-day step;
- temperature bins: main with the anomaly replaced by bins of the daily mean (15-20 °C the reference);
and the rain effect per comuna comes from main with rain interacted with comuna.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels
import statsmodels.api as sm
import threadpoolctl
from sklearn.preprocessing import SplineTransformer
from statsmodels.discrete.discrete_model import NegativeBinomial
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from crime_weather.core.names import COMUNAS, TARGET
from crime_weather.modeling.features.normals import seasonal_normal

RAIN_DAY_MM = 1.0
TEMP_EDGES = (10.0, 15.0, 20.0, 25.0, 28.0)  # bins of the daily mean temperature, °C
REFERENCE_BIN = "15-20 °C"
OVERDISPERSED = 1.2  # Pearson dispersion of the Poisson fit above which the negative binomial is used
MIN_DAYS = 60  # fewer days with weather cannot separate weather from the fixed effects
KNOT_MONTHS = 3  # one spline knot per quarter: the level, not the season (months have their own effects)
WEATHER_INPUTS = ("precipitation_mm", "temp_mean", "humidity_pct", "wind_speed_kmh")
MAIN, RAIN_AMOUNT, TEMPERATURE_BINS = "main", "rain amount", "temperature bins"

CAVEATS = (
    "One weather station for the whole city: a shower over one comuna and not another is invisible.",
    "Daily aggregation: rain at 3 am and at 6 pm count the same; hours are not modelled.",
    "Displacement is not modelled: robberies a rainy day prevents may happen on another day.",
    "Associations, not experiments: the fixed effects remove season, weekday and level, "
    "not every confounder (e.g. events scheduled by forecast).",
    "About a dozen contrasts are tested: one in twenty null effects excludes 1 by chance.",
)


@dataclass(frozen=True)
class Term:
    """One weather (or calendar) column of the design and how its effect is read."""

    column: str
    variable: str
    contrast: str
    field: str | None  # the weather field it is built from (None: calendar)
    scale: float = 1.0  # the contrast in the column's units: rate ratio = exp(coefficient * scale)
    group: str = "weather"


RAIN = Term("rain_day", "rain", f"rain >= {RAIN_DAY_MM:g} mm vs drier days", "precipitation_mm")
ANOMALY = Term("temp_anomaly", "temperature anomaly", "+1 °C above the day-of-year normal", "temp_mean")
HUMIDITY = Term("humidity", "humidity", "+10 points of relative humidity", "humidity_pct", 10.0)
WIND = Term("wind", "wind", "+10 km/h of mean wind speed", "wind_speed_kmh", 10.0)
RAIN_MM = Term(
    "log_rain",
    "rain amount",
    "1 + mm doubled (e.g. 3 -> 7 mm), beyond the rain-day step",
    "precipitation_mm",
    math.log(2.0),
)
HOLIDAY = Term("is_holiday", "public holiday", "holiday vs other days", None, group="calendar")
MAIN_TERMS = (RAIN, ANOMALY, HUMIDITY, WIND)

TABLE_COLUMNS = (
    "group",
    "model",
    "variable",
    "contrast",
    "rate_ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "days",
    "reference_days",
    "change_per_comuna_day",
    "change_per_city_day",
    "verdict",
)
COMUNA_COLUMNS = (
    "comuna",
    "rate_ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "rain_days",
    "mean_per_day",
    "change_per_day",
    "verdict",
)


@dataclass(frozen=True)
class Effects:
    """The effects table (one row per contrast), rain per comuna, and how they were estimated."""

    table: pd.DataFrame
    by_comuna: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def verdicts(self) -> list[str]:
        return [f"{row.variable} ({row.contrast}): {row.verdict}" for row in self.table.itertuples()]

    def as_json(self) -> dict[str, Any]:
        """Machine-readable, strict JSON (no NaN): what `weather_effects.json` holds."""
        return {
            "effects": _records(self.table),
            "by_comuna": _records(self.by_comuna),
            "model": self.info,
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    def plain(value: Any) -> Any:
        if value is pd.NA:
            return None
        if isinstance(value, np.generic):
            value = value.item()
        return None if isinstance(value, float) and not math.isfinite(value) else value

    return [{key: plain(value) for key, value in row.items()} for row in frame.to_dict("records")]


# --- the sample -------------------------------------------------------------------------------------


def _day_of_year_normal(dates: pd.Series, values: pd.Series) -> np.ndarray:
    """The normal of every date (one row per day): the model's own day-of-year normal (normals.py),
    so the anomaly the GLM reports is the one the model sees."""
    doy = pd.DatetimeIndex(dates).dayofyear.to_numpy()
    return seasonal_normal(doy, values.to_numpy(dtype="float64"))[doy - 1]


def _temperature_bin(temp: pd.Series) -> pd.Series:
    edges = (-np.inf, *TEMP_EDGES, np.inf)
    labels = [f"< {TEMP_EDGES[0]:g} °C"]
    labels += [f"{low:g}-{high:g} °C" for low, high in itertools.pairwise(TEMP_EDGES)]
    labels += [f">= {TEMP_EDGES[-1]:g} °C"]
    return pd.cut(temp, edges, right=False, labels=labels).astype("string")


@dataclass
class _Sample:
    """The comuna-days the weather model sees, with the derived weather columns."""

    rows: pd.DataFrame
    terms: list[Term]
    dropped: dict[str, str]
    excluded_days: pd.DatetimeIndex
    all_days: int


def _sample(features: pd.DataFrame) -> _Sample:
    frame = features.sort_values(["date", "comuna"]).reset_index(drop=True)
    frame["date"] = pd.to_datetime(frame["date"])
    days = frame.drop_duplicates("date").set_index("date")
    # A field with no value at all cannot be estimated: its terms leave, the others stay.
    present = {name for name in WEATHER_INPUTS if name in days and days[name].notna().any()}
    dropped = {t.variable: f"no {t.field} in the data" for t in MAIN_TERMS if t.field not in present}
    terms = [t for t in MAIN_TERMS if t.field in present]
    if RAIN not in terms or ANOMALY not in terms:
        raise ValueError("the weather effects need precipitation_mm and temp_mean: at least one has no value")
    normal = _day_of_year_normal(days.index.to_series(), days["temp_mean"])
    weather = pd.DataFrame(index=days.index)
    weather["temp_mean"] = days["temp_mean"]
    weather["temp_anomaly"] = days["temp_mean"] - normal
    weather["temp_bin"] = _temperature_bin(days["temp_mean"])
    weather["rain_mm"] = days["precipitation_mm"]
    weather["rain_day"] = (days["precipitation_mm"] >= RAIN_DAY_MM).astype("float64")
    weather["log_rain"] = np.log1p(days["precipitation_mm"])
    if HUMIDITY in terms:
        weather["humidity"] = days["humidity_pct"]
    if WIND in terms:
        weather["wind"] = days["wind_speed_kmh"]
    needed = sorted(t.field for t in terms if t.field)
    complete = days[needed].notna().all(axis=1)
    rows = frame[frame["date"].isin(days.index[complete])].drop(columns=[*WEATHER_INPUTS], errors="ignore")
    rows = rows.join(weather[complete], on="date").reset_index(drop=True)
    if complete.sum() < MIN_DAYS:
        raise ValueError(
            f"only {int(complete.sum())} days have {', '.join(needed)}: at least {MIN_DAYS} are needed"
        )
    return _Sample(rows, terms, dropped, days.index[~complete], len(days))


def _fixed_effects(rows: pd.DataFrame) -> pd.DataFrame:
    """const, comuna x weekday, month, holiday and a cubic B-spline of time (one knot per quarter)."""
    months = rows["date"].dt.to_period("M").nunique()
    elapsed = (rows["date"] - rows["date"].min()).dt.days.to_numpy(dtype="float64").reshape(-1, 1)
    spline = SplineTransformer(n_knots=max(2, months // KNOT_MONTHS + 1), degree=3).fit_transform(elapsed)
    cells = rows["comuna"].astype(str) + "x" + rows["weekday"].astype(str)
    parts = [
        pd.DataFrame({"const": 1.0}, index=rows.index),
        pd.get_dummies(cells, prefix="cw", drop_first=True, dtype="float64"),
        pd.get_dummies(rows["month"], prefix="month", drop_first=True, dtype="float64"),
        # B-splines sum to one: the first is the constant's.
        pd.DataFrame(spline[:, 1:], index=rows.index).add_prefix("trend_"),
        rows[["is_holiday"]].astype("float64"),
    ]
    return pd.concat(parts, axis=1)


# --- the fits ---------------------------------------------------------------------------------------


@dataclass
class _Family:
    name: str
    family: sm.families.Family
    dispersion: float
    alpha: float | None
    start: pd.Series  # coefficients of the chosen family's fit of the main design


def _fit(
    y: pd.Series,
    design: pd.DataFrame,
    family: sm.families.Family,
    groups: np.ndarray,
    start: pd.Series | None = None,
):
    """The GLM with day-clustered errors; `start` (a fit of a nested design) saves IRLS iterations."""
    params = None if start is None else start.reindex(design.columns, fill_value=0.0).to_numpy()
    return sm.GLM(y, design, family=family).fit(
        start_params=params, cov_type="cluster", cov_kwds={"groups": groups}
    )


def _choose_family(y: pd.Series, design: pd.DataFrame, groups: np.ndarray) -> _Family:
    """Poisson, unless its Pearson dispersion says the counts vary more: then a negative binomial
    (NB2) whose alpha is the maximum-likelihood one. Either way errors are clustered by day."""
    poisson = _fit(y, design, sm.families.Poisson(), groups)
    dispersion = float(poisson.pearson_chi2 / poisson.df_resid)
    if dispersion <= OVERDISPERSED:
        return _Family("Poisson", sm.families.Poisson(), dispersion, None, poisson.params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = np.append(poisson.params.to_numpy(), 0.05)
        try:
            nb = NegativeBinomial(y, design).fit(start_params=start, method="newton", maxiter=50, disp=0)
            alpha = float(nb.params.iloc[-1])
        except (np.linalg.LinAlgError, ValueError):
            alpha = math.nan
    if not (math.isfinite(alpha) and alpha > 0):  # no MLE: Poisson with robust errors is still valid
        return _Family(
            "Poisson (NB alpha not estimable)", sm.families.Poisson(), dispersion, None, poisson.params
        )
    family = sm.families.NegativeBinomial(alpha=alpha)
    start = pd.Series(nb.params.to_numpy()[:-1], index=design.columns)
    return _Family(f"negative binomial (NB2, alpha {alpha:.4f})", family, dispersion, alpha, start)


def _change(ratio: float, mean: float) -> float:
    return (ratio - 1.0) * mean


def _verdict(ratio: float, low: float, high: float) -> str:
    span = f"95 % CI {low - 1:+.1%} to {high - 1:+.1%}"
    if high < 1:
        return f"fewer robberies: {ratio - 1:+.1%} ({span})"
    if low > 1:
        return f"more robberies: {ratio - 1:+.1%} ({span})"
    return f"no detectable effect: {ratio - 1:+.1%} ({span}, includes 0)"


def _ratio(result: Any, column: str, scale: float) -> tuple[float, float, float, float]:
    low, high = result.conf_int(alpha=0.05).loc[column]
    coef = result.params[column]
    return (
        math.exp(coef * scale),
        math.exp(low * scale),
        math.exp(high * scale),
        float(result.pvalues[column]),
    )


def _term_ratio(result: Any, term: Term) -> dict:
    """The term's rate ratio, its 95 % CI and p-value, named as the effects table names them."""
    ratio, low, high, p = _ratio(result, term.column, term.scale)
    return {
        "variable": term.variable,
        "contrast": term.contrast,
        "rate_ratio": ratio,
        "ci_low": low,
        "ci_high": high,
        "p_value": p,
    }


def _row(result: Any, term: Term, model: str, days: int, reference: int | None, mean: float) -> dict:
    estimate = _term_ratio(result, term)
    ratio, low, high = estimate["rate_ratio"], estimate["ci_low"], estimate["ci_high"]
    return {
        "group": term.group,
        "model": model,
        **estimate,
        "days": days,
        "reference_days": reference,
        "change_per_comuna_day": _change(ratio, mean),
        "change_per_city_day": _change(ratio, mean) * len(COMUNAS),
        "verdict": _verdict(ratio, low, high),
    }


def weather_effects(features: pd.DataFrame) -> Effects:
    """Rate ratios with 95 % CIs of the weather on robberies, from daily_features rows of any months.

    Days without the weather the model needs leave its sample (and are counted in `info`). BLAS runs
    on one thread: the design is small, and threads fighting over 2 shared cores made it 10x slower.
    """
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        sample = _sample(features)
        try:
            effects = _estimate(sample)
        except (OverflowError, FloatingPointError, np.linalg.LinAlgError) as error:
            raise ValueError(
                f"the GLM cannot be fitted on this data ({type(error).__name__}: {error})"
            ) from error
    estimates = effects.table[["rate_ratio", "ci_low", "ci_high"]].to_numpy(dtype="float64")
    if not np.isfinite(estimates).all() or not effects.info["converged"]:
        raise ValueError(
            "the GLM did not converge to finite rate ratios: too few robberies or days to separate"
        )
    return effects


def _estimate(sample: _Sample) -> Effects:
    rows, terms = sample.rows, sample.terms
    y = rows[TARGET].astype("float64")
    groups = pd.factorize(rows["date"])[0]
    base = _fixed_effects(rows)
    main = pd.concat([base, rows[[t.column for t in terms]]], axis=1)
    family = _choose_family(y, main, groups)
    mean = float(y.mean())
    day = rows.drop_duplicates("date")
    n_days = len(day)
    rainy = int(day["rain_day"].sum())

    fitted = _fit(y, main, family.family, groups, family.start)
    table = [
        _row(fitted, HOLIDAY, MAIN, int(day["is_holiday"].sum()), n_days - int(day["is_holiday"].sum()), mean)
    ]
    for term in terms:
        binary = term is RAIN
        table.append(
            _row(fitted, term, MAIN, rainy if binary else n_days, n_days - rainy if binary else None, mean)
        )

    amount = _fit(y, pd.concat([main, rows[[RAIN_MM.column]]], axis=1), family.family, groups, fitted.params)
    table.append(_row(amount, RAIN_MM, RAIN_AMOUNT, int((day["rain_mm"] > 0).sum()), None, mean))

    table += _bin_rows(rows, base, terms, y, family, groups, mean)
    by_comuna, heterogeneity = _rain_by_comuna(rows, base, terms, y, family, groups)
    info = _info(sample, family, fitted, mean, heterogeneity, base)
    frame = pd.DataFrame(table, columns=list(TABLE_COLUMNS))
    frame["reference_days"] = frame["reference_days"].astype("Int64")  # a count, or none
    return Effects(frame, by_comuna, info)


def one_at_a_time(features: pd.DataFrame) -> pd.DataFrame:
    """Each main weather term alone (same sample, fixed effects and family): beside the joint fit it
    shows what adjusting for the others changes (rainy days are cooler, more humid, windier)."""
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        sample = _sample(features)
        rows = sample.rows
        y, groups = rows[TARGET].astype("float64"), pd.factorize(rows["date"])[0]
        base = _fixed_effects(rows)
        family = _choose_family(y, pd.concat([base, rows[[t.column for t in sample.terms]]], axis=1), groups)
        records = []
        for term in sample.terms:
            result = _fit(
                y, pd.concat([base, rows[[term.column]]], axis=1), family.family, groups, family.start
            )
            records.append(_term_ratio(result, term))
    return pd.DataFrame(records)


def _bin_rows(
    rows: pd.DataFrame,
    base: pd.DataFrame,
    terms: Sequence[Term],
    y: pd.Series,
    family: _Family,
    groups: np.ndarray,
    mean: float,
) -> list[dict]:
    """Temperature bins in place of the anomaly: is the shape linear? (Ranson: cold days differ.)"""
    day_bins = rows.drop_duplicates("date")["temp_bin"].value_counts()
    if day_bins.get(REFERENCE_BIN, 0) == 0 or len(day_bins) < 2:
        return []
    dummies = pd.get_dummies(rows["temp_bin"], prefix="bin", prefix_sep=" ", dtype="float64")
    dummies = dummies.drop(columns=f"bin {REFERENCE_BIN}")
    others = [t.column for t in terms if t is not ANOMALY]
    result = _fit(y, pd.concat([base, rows[others], dummies], axis=1), family.family, groups, family.start)
    bins = []
    for column in dummies.columns:
        label = column.removeprefix("bin ")
        term = Term(
            column,
            f"temperature {label}",
            f"temperature {label} vs {REFERENCE_BIN} (daily mean)",
            "temp_mean",
        )
        bins.append(
            _row(result, term, TEMPERATURE_BINS, int(day_bins[label]), int(day_bins[REFERENCE_BIN]), mean)
        )
    order = [
        f"< {TEMP_EDGES[0]:g} °C",
        *(f"{a:g}-{b:g} °C" for a, b in itertools.pairwise(TEMP_EDGES)),
        f">= {TEMP_EDGES[-1]:g} °C",
    ]
    return sorted(bins, key=lambda row: order.index(row["variable"].removeprefix("temperature ")))


def _rain_by_comuna(
    rows: pd.DataFrame,
    base: pd.DataFrame,
    terms: Sequence[Term],
    y: pd.Series,
    family: _Family,
    groups: np.ndarray,
) -> tuple[pd.DataFrame, float | None]:
    """Rain interacted with comuna (one rain effect each) and the Wald test that they are equal."""
    comunas = sorted(rows["comuna"].unique())
    rain = pd.DataFrame(
        {f"rain_c{c}": rows["rain_day"] * (rows["comuna"] == c) for c in comunas}, index=rows.index
    )
    others = [t.column for t in terms if t is not RAIN]
    design = pd.concat([base, rows[others], rain], axis=1)
    result = _fit(y, design, family.family, groups, family.start)
    rainy = int(rows.drop_duplicates("date")["rain_day"].sum())
    means = rows.groupby("comuna")[TARGET].mean()
    records = []
    for comuna in comunas:
        ratio, low, high, p = _ratio(result, f"rain_c{comuna}", 1.0)
        mean = float(means[comuna])
        records.append(
            {
                "comuna": int(comuna),
                "rate_ratio": ratio,
                "ci_low": low,
                "ci_high": high,
                "p_value": p,
                "rain_days": rainy,
                "mean_per_day": mean,
                "change_per_day": _change(ratio, mean),
                "verdict": _verdict(ratio, low, high),
            }
        )
    heterogeneity = None
    if len(comunas) > 1:
        position = {name: i for i, name in enumerate(design.columns)}
        equal = np.zeros((len(comunas) - 1, design.shape[1]))
        for i, (a, b) in enumerate(itertools.pairwise(comunas)):
            equal[i, position[f"rain_c{a}"]], equal[i, position[f"rain_c{b}"]] = 1.0, -1.0
        heterogeneity = float(result.wald_test(equal, scalar=True).pvalue)
    return pd.DataFrame(records, columns=list(COMUNA_COLUMNS)), heterogeneity


def _months(days: pd.DatetimeIndex) -> list[str]:
    return sorted({f"{day:%Y-%m}" for day in days})


def _info(
    sample: _Sample,
    family: _Family,
    fitted: Any,
    mean: float,
    heterogeneity: float | None,
    base: pd.DataFrame,
) -> dict[str, Any]:
    rows = sample.rows
    excluded = sample.excluded_days
    sample_days = rows["date"].nunique()
    note = (
        f"{len(excluded)} of {sample.all_days} days have no "
        f"{' / '.join(sorted(t.field for t in sample.terms if t.field))} and leave the weather model's "
        f"sample (months {', '.join(_compact(_months(excluded)))})"
        if len(excluded)
        else "every day has the weather the model needs"
    )
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
        "fixed_effects": "comuna x weekday, calendar month, public holiday, cubic spline of time "
        f"({sum(c.startswith('trend_') for c in base.columns)} basis functions, one knot per quarter)",
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


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _direction(low: float, high: float) -> str:
    return "fewer" if high < 1 else "more" if low > 1 else "no detectable effect"


def readable(table: pd.DataFrame) -> pd.DataFrame:
    """The effects table as people read it (one string per cell): for the UI and the README."""
    return pd.DataFrame(
        {
            "variable": table["variable"],
            "contrast": table["contrast"],
            "rate ratio [95 % CI]": [
                f"{r.rate_ratio:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]" for r in table.itertuples()
            ],
            "p": table["p_value"].map(_p),
            "days (vs)": [
                f"{r.days}" + ("" if pd.isna(r.reference_days) else f" ({int(r.reference_days)})")
                for r in table.itertuples()
            ],
            "robberies per comuna-day": table["change_per_comuna_day"].map("{:+.2f}".format),
            "per city-day": table["change_per_city_day"].map("{:+.1f}".format),
            "verdict": [_direction(r.ci_low, r.ci_high) for r in table.itertuples()],
        }
    )


def readable_by_comuna(by_comuna: pd.DataFrame) -> pd.DataFrame:
    """Rain per comuna as people read it."""
    return pd.DataFrame(
        {
            "comuna": by_comuna["comuna"],
            "rate ratio [95 % CI]": [
                f"{r.rate_ratio:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]" for r in by_comuna.itertuples()
            ],
            "p": by_comuna["p_value"].map(_p),
            "robberies per day": by_comuna["mean_per_day"].map("{:.1f}".format),
            "change on a rainy day": by_comuna["change_per_day"].map("{:+.2f}".format),
            "verdict": [_direction(r.ci_low, r.ci_high) for r in by_comuna.itertuples()],
        }
    )

"""What the weather does to robberies: rate ratios from a count GLM with fixed effects (README, "What the weather does to robberies").

The predictive model answers "how many"; this answers "what does rain (heat, wind...) change", with a
95 % CI. Robberies per (date, comuna) ~ Poisson or negative binomial (chosen by the data's
overdispersion, fit.py) with fixed effects for comuna x weekday and calendar month, public holidays
and a cubic spline of time (the level moves), plus the day's weather (sample.py), errors clustered by
day. Before any fit, adequacy.py decides from the data whether they can support each term.

Three specifications share those fixed effects:
- main: rain >= 1 mm, temperature anomaly against the day-of-year normal, humidity, wind;
- rain amount: main + log1p(rain mm), the dose beyond the rain-day step;
- temperature bins: main with the anomaly replaced by bins of the daily mean (15-20 °C the reference);
and the rain effect per comuna comes from main with rain interacted with comuna. An extra
specification the data cannot support is left out and `dropped_terms` says why.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import threadpoolctl

from crime_weather.core.names import TARGET
from crime_weather.modeling.effects.adequacy import (
    InadequateData,
    covariance_problem,
    holiday_unsupported,
    identified_terms,
    require_events_in_every_cell,
    require_events_per_parameter,
    require_full_rank,
    require_identified_by_events,
    require_rain_on_both_sides,
    specification_unsupported,
)
from crime_weather.modeling.effects.description import describe
from crime_weather.modeling.effects.fit import Family, choose_family, fit
from crime_weather.modeling.effects.sample import Sample, build_sample, fixed_effects
from crime_weather.modeling.effects.table import (
    COMUNA_COLUMNS,
    TABLE_COLUMNS,
    Effects,
    change,
    ratio,
    row,
    term_ratio,
    verdict,
)
from crime_weather.modeling.effects.terms import (
    ANOMALY,
    BIN_LABELS,
    HOLIDAY,
    MAIN,
    RAIN,
    RAIN_AMOUNT,
    RAIN_MM,
    RAIN_PER_COMUNA,
    REFERENCE_BIN,
    TEMPERATURE_BINS,
    bin_term,
)
from crime_weather.tables import terms


@dataclass
class _Prepared:
    """The sample and the main design, once the data are known to support them."""

    sample: Sample
    y: pd.Series
    groups: np.ndarray  # the day of each row: the clusters
    base: pd.DataFrame  # the fixed effects
    main: pd.DataFrame  # the fixed effects and the main weather terms


def _prepare(features: pd.DataFrame) -> _Prepared:
    """The sample, checked before any fit (adequacy.py): events in every cell, a holiday effect only
    if the holidays have robberies, weather terms the design can separate, enough events per parameter."""
    sample = build_sample(features)
    rows = sample.rows
    require_events_in_every_cell(rows)
    if (reason := holiday_unsupported(rows)) is not None:
        sample.holiday = False
        sample.dropped[HOLIDAY.variable] = reason
    base = fixed_effects(rows, holiday=sample.holiday)
    require_full_rank(base, "the fixed effects (comuna x weekday, month, holiday, time spline)")
    sample.terms, dropped = identified_terms(rows, base, sample.terms)
    sample.dropped.update(dropped)
    require_rain_on_both_sides(rows, RAIN)
    main = pd.concat([base, rows[[t.column for t in sample.terms]]], axis=1)
    y = rows[TARGET].astype("float64")
    require_events_per_parameter(y, main)
    require_identified_by_events(y, main)
    return _Prepared(sample, y, pd.factorize(rows["date"])[0], base, main)


def weather_effects(features: pd.DataFrame) -> Effects:
    """Rate ratios with 95 % CIs of the weather on robberies, from daily_features rows of any months.

    Days without the weather the model needs leave its sample (and are counted in `info`); data that
    cannot support the effects raise InadequateData (a ValueError) saying what is missing. BLAS runs
    on one thread: the design is small, and threads fighting over 2 shared cores made it 10x slower.
    """
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        prepared = _prepare(features)
        try:
            effects = _estimate(prepared)
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


def _estimate(prepared: _Prepared) -> Effects:
    sample, y, groups = prepared.sample, prepared.y, prepared.groups
    rows, kept = sample.rows, sample.terms
    family = choose_family(y, prepared.main, groups)
    mean = float(y.mean())
    day = rows.drop_duplicates("date")
    n_days = len(day)
    rainy = int(day[RAIN.column].sum())

    fitted = fit(y, prepared.main, family.family, groups, family.start)
    reported = ([HOLIDAY] if sample.holiday else []) + kept
    if (problem := covariance_problem(fitted, [t.column for t in reported])) is not None:
        raise InadequateData(f"the fit of the main specification cannot separate its terms: {problem}")
    table = []
    if sample.holiday:
        holidays = int(day[HOLIDAY.column].sum())
        table.append(row(fitted, HOLIDAY, MAIN, holidays, n_days - holidays, mean))
    for term in kept:
        binary = term is RAIN
        table.append(
            row(fitted, term, MAIN, rainy if binary else n_days, n_days - rainy if binary else None, mean)
        )
    amount = _optional_fit(
        prepared,
        family,
        RAIN_AMOUNT,
        design=pd.concat([prepared.main, rows[[RAIN_MM.column]]], axis=1),
        indicators={},  # a dose, not a cell: the rank decides
        reported=[RAIN_MM.column],
        start=fitted.params,
    )
    if amount is not None:
        table.append(row(amount, RAIN_MM, RAIN_AMOUNT, int(terms.rained(day["rain_mm"]).sum()), None, mean))
    table += _bin_rows(prepared, family, mean)
    by_comuna, heterogeneity = _rain_by_comuna(prepared, family)
    info = describe(sample, family, fitted, heterogeneity, prepared.main)
    frame = pd.DataFrame(table, columns=list(TABLE_COLUMNS))
    frame["reference_days"] = frame["reference_days"].astype("Int64")  # a count, or none
    return Effects(frame, by_comuna, info)


def _optional_fit(
    prepared: _Prepared,
    family: Family,
    name: str,
    design: pd.DataFrame,
    indicators: dict[str, pd.Series],
    reported: list[str],
    start: pd.Series,
) -> Any | None:
    """An extra specification's fit, or None when the data cannot support it (before the fit: too few
    robberies behind an indicator, a rank-deficient design; after: a singular covariance of what it
    reports): then `dropped_terms` says why, and the main table stands."""
    rows = prepared.sample.rows
    reason = specification_unsupported(rows, design, indicators, prepared.y)
    if reason is not None:
        prepared.sample.dropped[name] = reason
        return None
    result = fit(prepared.y, design, family.family, prepared.groups, start)
    if (problem := covariance_problem(result, reported)) is not None:
        prepared.sample.dropped[name] = f"after the fit, {problem}"
        return None
    return result


def one_at_a_time(features: pd.DataFrame) -> pd.DataFrame:
    """Each main weather term alone (same sample, fixed effects and family): beside the joint fit it
    shows what adjusting for the others changes (rainy days are cooler, more humid, windier)."""
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        prepared = _prepare(features)
        rows, y, groups = prepared.sample.rows, prepared.y, prepared.groups
        family = choose_family(y, prepared.main, groups)
        records = []
        for term in prepared.sample.terms:
            design = pd.concat([prepared.base, rows[[term.column]]], axis=1)
            records.append(term_ratio(fit(y, design, family.family, groups, family.start), term))
    return pd.DataFrame(records)


def _bin_rows(prepared: _Prepared, family: Family, mean: float) -> list[dict]:
    """Temperature bins in place of the anomaly: is the shape linear? (Ranson: cold days differ.)"""
    rows = prepared.sample.rows
    day_bins = rows.drop_duplicates("date")["temp_bin"].value_counts()
    if day_bins.get(REFERENCE_BIN, 0) == 0 or len(day_bins) < 2:
        prepared.sample.dropped[TEMPERATURE_BINS] = (
            f"no day of the sample in the reference bin {REFERENCE_BIN}"
            if day_bins.get(REFERENCE_BIN, 0) == 0
            else f"every day of the sample in {REFERENCE_BIN}"
        )
        return []
    every = pd.get_dummies(rows["temp_bin"], prefix="bin", prefix_sep=" ", dtype="float64")
    dummies = every.drop(columns=f"bin {REFERENCE_BIN}")
    others = [t.column for t in prepared.sample.terms if t is not ANOMALY]
    design = pd.concat([prepared.base, rows[others], dummies], axis=1)
    indicators = {column.removeprefix("bin "): every[column] for column in every.columns}
    result = _optional_fit(
        prepared, family, TEMPERATURE_BINS, design, indicators, list(dummies.columns), family.start
    )
    if result is None:
        return []
    bins = []
    for column in dummies.columns:
        label = column.removeprefix("bin ")
        bins.append(
            row(
                result,
                bin_term(label),
                TEMPERATURE_BINS,
                int(day_bins[label]),
                int(day_bins[REFERENCE_BIN]),
                mean,
            )
        )
    return sorted(bins, key=lambda entry: BIN_LABELS.index(entry["variable"].removeprefix("temperature ")))


def _rain_by_comuna(prepared: _Prepared, family: Family) -> tuple[pd.DataFrame, float | None]:
    """Rain interacted with comuna (one rain effect each) and the Wald test that they are equal."""
    rows = prepared.sample.rows
    comunas = sorted(rows["comuna"].unique())
    rain = pd.DataFrame(
        {f"rain_c{c}": rows["rain_day"] * (rows["comuna"] == c) for c in comunas}, index=rows.index
    )
    others = [t.column for t in prepared.sample.terms if t is not RAIN]
    design = pd.concat([prepared.base, rows[others], rain], axis=1)
    indicators = {f"rain in comuna {c}": rain[f"rain_c{c}"] for c in comunas}
    result = _optional_fit(
        prepared, family, RAIN_PER_COMUNA, design, indicators, list(rain.columns), family.start
    )
    if result is None:
        return pd.DataFrame(columns=list(COMUNA_COLUMNS)), None
    rainy = int(rows.drop_duplicates("date")["rain_day"].sum())
    means = rows.groupby("comuna")[TARGET].mean()
    records = []
    for comuna in comunas:
        rate, low, high, p = ratio(result, f"rain_c{comuna}", 1.0)
        mean = float(means[comuna])
        records.append(
            {
                "comuna": int(comuna),
                "rate_ratio": rate,
                "ci_low": low,
                "ci_high": high,
                "p_value": p,
                "rain_days": rainy,
                "mean_per_day": mean,
                "change_per_day": change(rate, mean),
                "verdict": verdict(rate, low, high),
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

"""Can the data support the effects? Decided from the data themselves, before fitting, the same on
every machine; and after a fit, whether its covariance can separate the reported terms.

A count GLM with a log link has no finite estimate for a cell whose rows have no event: its effect
runs to minus infinity, and whether the optimiser then overflows or stops at some large negative
number depends on the CPU's rounding. So cells and indicator terms are counted (events, not fitted
values), the design's rank is taken with an explicit tolerance on unit-length columns (exact
collinearity leaves singular values ~1e-15 of the largest, real designs ~1e-3 or more: the cut at
1e-8 is far from both), and a term the data cannot support is refused or dropped by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crime_weather.core.names import TARGET
from crime_weather.modeling.effects.terms import REQUIRED_TERMS, Term

MIN_EVENTS = 10  # robberies behind a cell or an indicator term: the SE of a log rate is ~1/sqrt(events)
MIN_EVENTS_PER_PARAMETER = 10  # the usual floor of events per estimated coefficient
RANK_RTOL = 1e-8  # singular values below this fraction of the largest count as zero
# A column computed with floating point from a field: a constant field leaves it rounding noise.
DERIVED_FROM = {"temp_anomaly": "temp_mean"}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class InadequateData(ValueError):
    """The data cannot support the effects: what is missing, how much there is, what is needed."""


def rank(design: pd.DataFrame | np.ndarray) -> int:
    """Rank with every column scaled to unit length, so the tolerance means the same for a dummy and
    for km/h of wind; an all-zero column adds nothing."""
    matrix = np.asarray(design, dtype="float64")
    norms = np.linalg.norm(matrix, axis=0)
    return int(np.linalg.matrix_rank(matrix / np.where(norms > 0, norms, 1.0), rtol=RANK_RTOL))


def _listing(items: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"


def _span(rows: pd.DataFrame) -> str:
    return (
        f"{rows['date'].nunique()}-day sample ({rows['date'].min():%Y-%m-%d}..{rows['date'].max():%Y-%m-%d})"
    )


def require_events_in_every_cell(rows: pd.DataFrame) -> None:
    """Every comuna, calendar month and comuna x weekday cell of the fixed effects has MIN_EVENTS
    robberies: a cell without any has no finite effect."""
    by_comuna = rows.groupby("comuna")[TARGET].sum()
    thin = by_comuna[by_comuna < MIN_EVENTS]
    if len(thin):
        raise InadequateData(
            f"{len(thin)} of {len(by_comuna)} comunas have fewer than {MIN_EVENTS} robberies in the "
            f"{_span(rows)}, the least each comuna's fixed effects need: "
            + _listing([f"comuna {c} ({n})" for c, n in thin.items()], limit=15)
        )
    by_month = rows.groupby("month")[TARGET].sum()
    thin = by_month[by_month < MIN_EVENTS]
    if len(thin):
        raise InadequateData(
            f"{len(thin)} of {len(by_month)} calendar months have fewer than {MIN_EVENTS} robberies in the "
            f"{_span(rows)}, the least each month's fixed effect needs: "
            + _listing([f"month {m} ({n})" for m, n in thin.items()], limit=12)
        )
    by_cell = rows.groupby(["comuna", "weekday"])[TARGET].sum()
    thin = by_cell[by_cell < MIN_EVENTS]
    if len(thin):
        raise InadequateData(
            f"{len(thin)} of {len(by_cell)} comuna x weekday cells have fewer than {MIN_EVENTS} robberies "
            f"in the {_span(rows)}, the least each cell's fixed effect needs: "
            + _listing([f"comuna {c} on {WEEKDAYS[d]} ({n})" for (c, d), n in thin.items()])
        )


def thin_indicators(rows: pd.DataFrame, indicators: Mapping[str, pd.Series]) -> dict[str, int]:
    """The indicators (label: 0/1 per row) whose rows hold fewer than MIN_EVENTS robberies."""
    events = {label: int(rows.loc[mask.to_numpy() > 0, TARGET].sum()) for label, mask in indicators.items()}
    return {label: n for label, n in events.items() if n < MIN_EVENTS}


def holiday_unsupported(rows: pd.DataFrame) -> str | None:
    """Why the public-holiday effect cannot be estimated (None: it can)."""
    days = int(rows.drop_duplicates("date")["is_holiday"].sum())
    if days == 0:
        return f"no public holiday in the {_span(rows)}"
    thin = thin_indicators(rows, {"holidays": rows["is_holiday"]})
    if thin:
        return f"{thin['holidays']} robberies on the sample's {days} public holidays: at least {MIN_EVENTS} are needed"
    return None


def require_rain_on_both_sides(rows: pd.DataFrame, rain: Term) -> None:
    """The rain contrast needs robberies on rainy days and on drier ones."""
    days = rows.drop_duplicates("date")[rain.column]
    sides = {"rainy": rows[rain.column], "drier": 1.0 - rows[rain.column]}
    thin = thin_indicators(rows, sides)
    if thin:
        counts = {"rainy": int(days.sum()), "drier": int((1 - days).sum())}
        raise InadequateData(
            f"{rain.variable} ({rain.contrast}) cannot be estimated: "
            + ", ".join(f"{n} robberies on the {counts[side]} {side} days" for side, n in thin.items())
            + f" of the {_span(rows)}; each side needs at least {MIN_EVENTS}"
        )


def require_full_rank(design: pd.DataFrame, what: str) -> None:
    columns = design.shape[1]
    if (found := rank(design)) < columns:
        empty = [name for name in design.columns if not design[name].any()]
        raise InadequateData(
            f"{what} are collinear in this sample: the design has rank {found} of {columns} columns"
            + (f" ({_listing(empty)} never set)" if empty else "")
        )


def not_identified(rows: pd.DataFrame, design: pd.DataFrame, kept: Sequence[Term], term: Term) -> str | None:
    """Why `term` adds nothing the full-rank `design` (fixed effects and `kept`) does not already
    hold: constant, a linear function of a kept term, or of the fixed effects (None: it is identified)."""
    values = rows[term.column]
    for column in (DERIVED_FROM.get(term.column, term.column), term.column):
        if rows[column].nunique() == 1:  # the data's own values: no rounding decides this
            return f"{column} is {rows[column].iloc[0]:g} on every day of the {_span(rows)}"
    if rank(pd.concat([design, values], axis=1)) > design.shape[1]:
        return None
    ones = np.ones(len(rows))
    for other in kept:
        if rank(np.column_stack([ones, rows[other.column], values])) < 3:
            return f"{term.column} is a linear function of {other.column} in the sample"
    return f"{term.column} is a linear combination of the fixed effects in the sample"


def identified_terms(
    rows: pd.DataFrame, base: pd.DataFrame, terms: Sequence[Term]
) -> tuple[list[Term], dict[str, str]]:
    """The terms the design can separate, in order, and why each other one leaves; a required term
    (rain, temperature) that cannot be separated refuses the whole estimate."""
    kept: list[Term] = []
    dropped: dict[str, str] = {}
    for term in terms:
        design = pd.concat([base, rows[[t.column for t in kept]]], axis=1)
        reason = not_identified(rows, design, kept, term)
        if reason is None:
            kept.append(term)
        elif term in REQUIRED_TERMS:
            raise InadequateData(f"{term.variable} ({term.contrast}) cannot be estimated: {reason}")
        else:
            dropped[term.variable] = reason
    return kept, dropped


def require_events_per_parameter(y: pd.Series, design: pd.DataFrame) -> None:
    events, parameters = int(y.sum()), design.shape[1]
    if events < MIN_EVENTS_PER_PARAMETER * parameters:
        raise InadequateData(
            f"{events} robberies for {parameters} parameters ({events / parameters:.1f} per parameter): "
            f"at least {MIN_EVENTS_PER_PARAMETER} per parameter ({MIN_EVENTS_PER_PARAMETER * parameters}) are needed"
        )


def require_identified_by_events(y: pd.Series, design: pd.DataFrame) -> None:
    """The rows with robberies alone must give the design its full rank. Where they do not, some
    combination of coefficients is pinned only by zero counts and can run to minus infinity (a stretch
    of time without robberies under the spline, say): its estimate would be the CPU's, not the data's."""
    events = design[y.to_numpy() > 0]
    if (found := rank(events)) < design.shape[1]:
        unset = [name for name in design.columns if not events[name].any()]
        raise InadequateData(
            f"the {len(events)} comuna-days with robberies identify only {found} of the design's "
            f"{design.shape[1]} parameters"
            + (f"; never set on them: {_listing(unset)}" if unset else "")
            + ": some effects would rest on days without any robbery"
        )


def specification_unsupported(
    rows: pd.DataFrame, design: pd.DataFrame, indicators: Mapping[str, pd.Series], y: pd.Series
) -> str | None:
    """Why an extra specification (its `design`, its `indicators` by label) cannot be fitted: an
    indicator with too few robberies, a rank-deficient design, or one the rows with robberies do not
    identify (None: it can)."""
    thin = thin_indicators(rows, indicators)
    if thin:
        return f"fewer than {MIN_EVENTS} robberies for " + _listing([f"{k} ({n})" for k, n in thin.items()])
    if (found := rank(design)) < design.shape[1]:
        return f"its design has rank {found} of {design.shape[1]} columns"
    if (found := rank(design[y.to_numpy() > 0])) < design.shape[1]:
        return f"the comuna-days with robberies identify only {found} of its {design.shape[1]} parameters"
    return None


def covariance_problem(result: Any, columns: Sequence[str]) -> str | None:
    """After a fit: why its clustered covariance cannot separate `columns` (None: it can). A
    variance that is not finite and positive, or a correlation matrix of lower rank than its size."""
    cov = result.cov_params().loc[list(columns), list(columns)].to_numpy(dtype="float64")
    variances = np.diag(cov)
    if not (np.isfinite(cov).all() and (variances > 0).all()):
        bad = [c for c, v in zip(columns, variances, strict=True) if not (np.isfinite(v) and v > 0)]
        return f"no finite variance for {_listing(bad)}"
    sd = np.sqrt(variances)
    found = int(np.linalg.matrix_rank(cov / np.outer(sd, sd), rtol=RANK_RTOL, hermitian=True))
    if found < len(columns):
        return f"the covariance of {_listing(list(columns))} has rank {found} of {len(columns)}"
    return None

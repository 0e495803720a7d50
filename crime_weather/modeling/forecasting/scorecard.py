"""The platform grades its own claims as the truth lands: every stored claim on a month (the outlooks
made at each promotion, the forecasts issued each day) scored against the observed counts.

A claim source is one outlook (key: the model version) or one forecast issue (key: its issue date).
Scores are per source and horizon bucket (forecasting/horizon.py: months 1..6 for outlooks, lead days
1..7 for forecasts): n, mean Poisson deviance, MAE, predicted/observed, the share of observed counts
inside the claimed 80 % and 95 % intervals, and, for outlooks, the same scores of every naive level
issued with the claim and the best of them. Pure and deterministic: re-scoring a month gives the same
rows, which replace the month's previous ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crime_weather.core.names import (
    INTERVAL_LEVELS,
    NAIVE_COLUMNS,
    SCORE_FIELDS,
    SCORECARD_COLUMNS,
    TARGET,
)
from crime_weather.modeling.estimation.metrics import unit_deviance
from crime_weather.modeling.forecasting.horizon import horizon_month, lead_day

OUTLOOK, FORECAST = "outlook", "forecast"
HORIZON_UNIT = {OUTLOOK: "month", FORECAST: "day"}
CLAIM_KEYS = ("source", "source_key", "model_version", "issued_at", "horizon_unit", "horizon")
_STRING = pd.StringDtype("pyarrow")


@dataclass(frozen=True)
class Scorecard:
    """The month's scores, or an empty table and why nothing was scored."""

    table: pd.DataFrame
    reason: str | None = None


def outlook_claims(outlook: pd.DataFrame) -> pd.DataFrame:
    """A champion_outlook table as claims: source `outlook`, keyed by version, by horizon month."""
    return outlook.assign(
        source=OUTLOOK,
        source_key=outlook["model_version"].astype(str),
        horizon_unit=HORIZON_UNIT[OUTLOOK],
        horizon=horizon_month(outlook["date"], outlook["data_through"].iloc[0]) if len(outlook) else 0,
    )


def forecast_claims(forecast: pd.DataFrame, issue_date: str) -> pd.DataFrame:
    """A robbery_forecast issue as claims: source `forecast`, keyed by issue date, by lead day. No
    naive level is issued with a forecast, so its naive scores stay empty. Days beyond the horizon
    carry no count: they claim nothing."""
    if "expected_robberies" in forecast:
        forecast = forecast[forecast["expected_robberies"].notna()]
    return forecast.assign(
        source=FORECAST,
        source_key=issue_date,
        horizon_unit=HORIZON_UNIT[FORECAST],
        horizon=lead_day(forecast["date"], np.full(len(forecast), np.datetime64(issue_date))),
        **{name: np.nan for name in NAIVE_COLUMNS},
    )


def _ratio(expected: float, observed: float) -> float:
    return expected / observed if observed > 0 else float("nan")


def _scores(observed: np.ndarray, expected: np.ndarray) -> dict[str, float]:
    return {
        "poisson_deviance": float(np.mean(unit_deviance(observed, expected))),
        "mae": float(np.mean(np.abs(observed - expected))),
        "pred_over_obs": _ratio(float(expected.sum()), float(observed.sum())),
    }


def _score_group(group: pd.DataFrame) -> dict[str, object]:
    observed = group[TARGET].to_numpy(dtype="float64")
    expected = group["expected_robberies"].to_numpy(dtype="float64")
    row: dict[str, object] = {
        "n": len(group),
        "observed_robberies": float(observed.sum()),
        "expected_robberies": float(expected.sum()),
        **_scores(observed, expected),
    }
    for level in INTERVAL_LEVELS:
        low, high = group[f"interval_{level}_low"], group[f"interval_{level}_high"]
        row[f"coverage_{level}"] = float(np.mean((observed >= low) & (observed <= high)))
    naive_deviance = {}
    for name in NAIVE_COLUMNS:
        level = group[name].to_numpy(dtype="float64")
        if np.isnan(level).any():
            row.update({f"{name}_{field}": float("nan") for field in SCORE_FIELDS})
            continue
        for field, value in _scores(observed, level).items():
            row[f"{name}_{field}"] = value
        naive_deviance[name] = row[f"{name}_poisson_deviance"]
    best = min(naive_deviance, key=naive_deviance.__getitem__) if naive_deviance else None
    row["best_naive"] = best
    row["best_naive_poisson_deviance"] = naive_deviance[best] if best else float("nan")
    return row


def empty_scorecard() -> pd.DataFrame:
    return _typed(pd.DataFrame({name: [] for name in SCORECARD_COLUMNS}))


def _typed(table: pd.DataFrame) -> pd.DataFrame:
    for name in ("month", "source", "source_key", "model_version", "horizon_unit", "best_naive"):
        table[name] = table[name].astype(_STRING)
    table["issued_at"] = pd.to_datetime(table["issued_at"], utc=True).astype("datetime64[ns, UTC]")
    for name in ("horizon", "n"):
        table[name] = table[name].astype("int64")
    floats = [name for name in SCORECARD_COLUMNS if name not in (*CLAIM_KEYS, "month", "n", "best_naive")]
    table[floats] = table[floats].astype("float64")
    return table[list(SCORECARD_COLUMNS)]


def score_claims(claims: pd.DataFrame, observed: pd.DataFrame) -> Scorecard:
    """Every claim on a day and comuna of `observed` (daily_features: date, comuna, robberies) scored
    per month, source and horizon. No claim on those days: an empty table and the reason."""
    truth = observed[["date", "comuna", TARGET]].dropna()
    truth = truth.assign(date=pd.to_datetime(truth["date"]), comuna=truth["comuna"].astype("int64"))
    months = sorted(truth["date"].dt.strftime("%Y-%m").unique())
    label = ", ".join(months) or "the month"
    if truth.empty:
        return Scorecard(empty_scorecard(), f"no observed robberies in {label} to score against")
    if claims.empty:
        return Scorecard(empty_scorecard(), f"no claim is stored: nothing claims a day of {label}")
    claimed = claims.assign(date=pd.to_datetime(claims["date"]), comuna=claims["comuna"].astype("int64"))
    rows = claimed.merge(truth, on=["date", "comuna"], how="inner")
    if rows.empty:
        span = f"{claimed['date'].min():%Y-%m-%d}..{claimed['date'].max():%Y-%m-%d}"
        return Scorecard(
            empty_scorecard(), f"no stored claim covers a day of {label} (the claims cover {span})"
        )
    rows["month"] = rows["date"].dt.strftime("%Y-%m")
    keys = ["month", *CLAIM_KEYS]
    scored = [
        {**dict(zip(keys, key, strict=True)), **_score_group(group)}
        for key, group in rows.groupby(keys, sort=True, dropna=False)
    ]
    table = _typed(pd.DataFrame(scored))
    return Scorecard(table.sort_values(keys, kind="stable").reset_index(drop=True))


def month_claims(
    outlooks: dict[str, pd.DataFrame], forecasts: dict[str, pd.DataFrame], month: str
) -> pd.DataFrame:
    """Every stored claim on a day of `month`, as claims: `outlooks` by version, `forecasts` by issue
    date (as stored: champion_outlook and robbery_forecast tables)."""
    parts = [outlook_claims(table) for table in outlooks.values()]
    parts += [forecast_claims(table, issue) for issue, table in forecasts.items()]
    parts = [part[pd.to_datetime(part["date"]).dt.strftime("%Y-%m") == month] for part in parts]
    parts = [part for part in parts if len(part)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def forecast_issues_touching(month: str, issues: list[str], max_days: int) -> list[str]:
    """The issue dates (YYYY-MM-DD; other names are not issues) whose `max_days`-day window reaches
    into `month`."""
    first = pd.Timestamp(f"{month}-01")
    last = first + pd.offsets.MonthEnd(0)
    earliest = first - pd.Timedelta(days=max_days - 1)
    dates = pd.to_datetime(pd.Series(issues, dtype="object"), format="%Y-%m-%d", errors="coerce")
    return [issue for issue, day in zip(issues, dates, strict=True) if earliest <= day <= last]

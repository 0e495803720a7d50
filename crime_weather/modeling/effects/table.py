"""The effects as they are reported: the table of rate ratios, rain per comuna, the verdict of each
contrast, the strict JSON the API serves and the strings people read (UI, README)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crime_weather.core.names import COMUNAS
from crime_weather.modeling.effects.terms import Term

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


def change(ratio: float, mean: float) -> float:
    """Robberies per day the ratio adds (or takes away) at a mean of `mean`."""
    return (ratio - 1.0) * mean


def verdict(ratio: float, low: float, high: float) -> str:
    """An effect is called only when its 95 % CI excludes 1."""
    span = f"95 % CI {low - 1:+.1%} to {high - 1:+.1%}"
    if high < 1:
        return f"fewer robberies: {ratio - 1:+.1%} ({span})"
    if low > 1:
        return f"more robberies: {ratio - 1:+.1%} ({span})"
    return f"no detectable effect: {ratio - 1:+.1%} ({span}, includes 0)"


def ratio(result: Any, column: str, scale: float) -> tuple[float, float, float, float]:
    """Rate ratio, 95 % CI and p-value of one coefficient of a fitted GLM, for a contrast of `scale`."""
    low, high = result.conf_int(alpha=0.05).loc[column]
    coef = result.params[column]
    return (
        math.exp(coef * scale),
        math.exp(low * scale),
        math.exp(high * scale),
        float(result.pvalues[column]),
    )


def term_ratio(result: Any, term: Term) -> dict:
    """The term's rate ratio, its 95 % CI and p-value, named as the effects table names them."""
    estimate, low, high, p = ratio(result, term.column, term.scale)
    return {
        "variable": term.variable,
        "contrast": term.contrast,
        "rate_ratio": estimate,
        "ci_low": low,
        "ci_high": high,
        "p_value": p,
    }


def row(result: Any, term: Term, model: str, days: int, reference: int | None, mean: float) -> dict:
    """One row of the effects table: the ratio, the days behind it and what it means in robberies."""
    estimate = term_ratio(result, term)
    rate, low, high = estimate["rate_ratio"], estimate["ci_low"], estimate["ci_high"]
    return {
        "group": term.group,
        "model": model,
        **estimate,
        "days": days,
        "reference_days": reference,
        "change_per_comuna_day": change(rate, mean),
        "change_per_city_day": change(rate, mean) * len(COMUNAS),
        "verdict": verdict(rate, low, high),
    }


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

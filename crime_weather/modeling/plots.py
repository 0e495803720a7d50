"""PNG plots for MLflow artifacts and Dagster metadata (markdown with an embedded image)."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd


def _png(figure: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return buffer.getvalue()


def optimization_history(values: list[float], title: str) -> bytes:
    """Each trial's CV deviance and the best so far."""
    figure, axis = plt.subplots(figsize=(6, 3.2))
    series = pd.Series(values, dtype="float64")
    axis.scatter(series.index, series, s=14, label="trial")
    axis.plot(series.index, series.cummin(), color="tab:red", label="best so far")
    axis.set(xlabel="trial", ylabel="CV mean Poisson deviance", title=title)
    axis.legend()
    return _png(figure)


def importance(means: pd.Series, stds: pd.Series, title: str) -> bytes:
    """Permutation importance of each raw input (increase in test deviance when shuffled)."""
    order = means.sort_values().index
    figure, axis = plt.subplots(figsize=(6, 3.6))
    axis.barh(order, means[order], xerr=stds[order], color="tab:blue")
    axis.set(xlabel="increase in test Poisson deviance", title=title)
    return _png(figure)


def forecast_band(totals: pd.DataFrame, title: str) -> bytes:
    """The city's expected robberies per forecast day with its 80 % and 95 % prediction bands
    (modeling.forecast.city_totals)."""
    figure, axis = plt.subplots(figsize=(6, 3.2))
    days = pd.to_datetime(totals["date"])
    axis.fill_between(
        days,
        totals["interval_95_low"],
        totals["interval_95_high"],
        color="tab:blue",
        alpha=0.15,
        label="95 %",
    )
    axis.fill_between(
        days, totals["interval_80_low"], totals["interval_80_high"], color="tab:blue", alpha=0.3, label="80 %"
    )
    axis.plot(days, totals["expected_robberies"], marker="o", color="tab:blue", label="expected")
    axis.set(ylabel="robberies in the city", title=title)
    axis.set_ylim(bottom=0)
    axis.xaxis.set_major_formatter(mdates.DateFormatter("%a %d %b"))
    figure.autofmt_xdate()
    axis.legend(loc="lower left")
    return _png(figure)


def markdown_image(png: bytes, alt: str) -> str:
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"

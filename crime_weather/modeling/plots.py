"""PNG plots for MLflow artifacts and Dagster metadata (markdown with an embedded image)."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd


def _png(figure: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return buffer.getvalue()


def optimization_history(values: list[float], title: str) -> bytes:
    """Each trial's deviance on the search folds and the best so far."""
    figure, axis = plt.subplots(figsize=(6, 3.2))
    series = pd.Series(values, dtype="float64")
    axis.scatter(series.index, series, s=14, label="trial")
    axis.plot(series.index, series.cummin(), color="tab:red", label="best so far")
    axis.set(xlabel="trial", ylabel="mean Poisson deviance (search folds)", title=title)
    axis.legend()
    return _png(figure)


def predicted_vs_observed(folds: pd.DataFrame, naive: pd.Series | None, title: str) -> bytes:
    """Observed robberies per backtest month beside the model's expected total (and the best naive's)."""
    figure, axis = plt.subplots(figsize=(7, 3.4))
    months = folds["month"].tolist()
    axis.bar(months, folds["observed"], color="lightgray", label="observed")
    axis.plot(months, folds["expected"], color="tab:blue", marker="o", label="model")
    if naive is not None:
        axis.plot(months, naive.to_numpy(), color="tab:orange", marker=".", ls="--", label=str(naive.name))
    axis.set(ylabel="robberies per month", title=title)
    axis.tick_params(axis="x", rotation=60)
    axis.legend(loc="lower left")
    return _png(figure)


def markdown_image(png: bytes, alt: str) -> str:
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"

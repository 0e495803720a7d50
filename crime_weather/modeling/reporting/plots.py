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


def horizon_scores(table: pd.DataFrame, title: str) -> bytes:
    """Deviance (the model and every naive level) and the model's interval coverage against the
    horizon, days after the origin on the left, months on the right (modeling.selection.horizons)."""
    units = [unit for unit in ("day", "month") if (table["unit"] == unit).any()]
    figure, axes = plt.subplots(2, len(units), figsize=(5.5 * len(units), 6), squeeze=False)
    naive = [c for c in table.columns if c.startswith("naive_") and c.endswith("_poisson_deviance")]
    shades = plt.get_cmap("copper")([0.15 + 0.7 * i / max(len(naive) - 1, 1) for i in range(len(naive))])
    for column, unit in enumerate(units):
        rows = table[table["unit"] == unit]
        deviance, calibration = axes[0][column], axes[1][column]
        for name, shade in zip(naive, shades, strict=True):
            label = name.removesuffix("_poisson_deviance")
            deviance.plot(rows["h"], rows[name], color=shade, lw=0.8, alpha=0.7, marker=".", label=label)
        deviance.plot(rows["h"], rows["poisson_deviance"], color="tab:blue", marker="o", label="model")
        deviance.plot(
            rows["h"], rows["best_naive_poisson_deviance"], color="tab:orange", ls="--", label="best naive"
        )
        deviance.set(title=f"{title}: {unit}s after the origin", ylabel="mean Poisson deviance")
        deviance.legend(fontsize=6, ncol=2)
        for level, color in (("80", "tab:green"), ("95", "tab:purple")):
            calibration.plot(
                rows["h"], rows[f"coverage_{level}"], marker="o", color=color, label=f"{level} %"
            )
            calibration.axhline(int(level) / 100, color=color, ls=":", lw=0.8)
        calibration.set(xlabel=f"horizon ({unit}s)", ylabel="interval coverage")
        calibration.legend(fontsize=7)
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


def forest(effects: pd.DataFrame, by_comuna: pd.DataFrame, title: str) -> bytes:
    """Rate ratios with 95 % CIs on a log scale: the weather contrasts, and rain in each comuna.

    Weather rows only (the holiday's 0.75 would squeeze them); a CI that crosses the line at 1 is
    drawn grey: no detectable effect.
    """
    weather = effects[effects["group"] == "weather"].iloc[::-1]
    comunas = by_comuna.iloc[::-1]
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(12, 0.3 * max(len(weather), len(comunas)) + 1.4), width_ratios=(3, 2)
    )
    # "rain >= 1 mm vs drier days" names its variable; "+10 km/h of mean wind speed" needs "wind: ".
    labels = [
        row.contrast if row.contrast.startswith(row.variable) else f"{row.variable}: {row.contrast}"
        for row in weather.itertuples()
    ]
    _intervals(left, weather, labels)
    left.set_title(title, fontsize=10)
    _intervals(right, comunas, [f"comuna {comuna}" for comuna in comunas["comuna"]])
    right.set_title("rain >= 1 mm, per comuna", fontsize=10)
    return _png(figure)


def _intervals(axis: plt.Axes, rows: pd.DataFrame, labels: list[str]) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    positions = list(range(len(rows)))
    called = (rows["ci_high"] < 1) | (rows["ci_low"] > 1)
    colors = ["tab:blue" if flag else "tab:gray" for flag in called]
    axis.hlines(positions, rows["ci_low"], rows["ci_high"], colors=colors, linewidth=1.8)
    axis.scatter(rows["rate_ratio"], positions, color=colors, zorder=3, s=22)
    axis.axvline(1.0, color="black", linewidth=0.8, linestyle="--")
    axis.set_xscale("log")
    axis.set_yticks(positions, labels, fontsize=8)
    axis.set_xlabel("rate ratio, 95 % CI (log scale)", fontsize=8)
    axis.xaxis.set_major_locator(MaxNLocator(6))
    axis.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.2f}"))
    axis.xaxis.set_minor_formatter(NullFormatter())
    axis.tick_params(axis="x", labelsize=7)
    values = axis.twinx()  # the numbers beside each interval
    values.set_ylim(axis.get_ylim())
    values.set_yticks(
        positions,
        [f"{r.rate_ratio:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]" for r in rows.itertuples()],
        fontsize=7,
    )
    values.tick_params(axis="y", length=0)


def observed_in_band(days: pd.DataFrame, title: str) -> bytes:
    """The observed city total per day against the band a claim put on it (the 80 % and 95 %
    intervals of the summed expected count): where the truth left the band shows at a glance.

    `days`: date, observed, and optionally expected_robberies and interval_{80,95}_{low,high}."""
    figure, axis = plt.subplots(figsize=(7, 3.2))
    dates = pd.to_datetime(days["date"])
    if "expected_robberies" in days:
        for level, alpha in (("95", 0.15), ("80", 0.3)):
            axis.fill_between(
                dates,
                days[f"interval_{level}_low"],
                days[f"interval_{level}_high"],
                color="tab:blue",
                alpha=alpha,
                label=f"claimed {level} %",
            )
        axis.plot(dates, days["expected_robberies"], color="tab:blue", label="claimed")
    axis.plot(dates, days["observed"], color="black", marker=".", ls="", label="observed")
    axis.set(ylabel="robberies in the city", title=title)
    axis.set_ylim(bottom=0)
    axis.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    figure.autofmt_xdate()
    axis.legend(loc="lower left", fontsize="small")
    return _png(figure)

"""A registered version's model card: what it was trained on, how accurate it is at each horizon, what
the weather adds, and what it must not be used for; the markdown MLflow shows as the version's
description.

Pure: built from a plain dict of the run's `metrics`, `tags` and `params` (the registry reads them), so
a card can be checked without MLflow. Figures are written with their CIs where the run logged one; a
metric the run lacks is left out, never shown as a number it does not have.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

# Columns of the per-horizon table: metric suffix -> header.
HORIZON_COLUMNS = {
    "poisson_deviance": "mean Poisson deviance",
    "best_naive_poisson_deviance": "best naive level, deviance",
    "pred_over_obs": "predicted / observed",
    "coverage_80": "80 % interval coverage",
    "coverage_95": "95 % interval coverage",
}
FIXED_WINDOW = {
    "test_poisson_deviance": "model",
    "no_weather_test_poisson_deviance": "same model without weather",
    "baseline_test_poisson_deviance": "training mean per comuna and weekday",
    "test_mae": "model, mean absolute error",
}
_HORIZON = re.compile(r"^backtest_h(\d+)_")


def _number(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.4f}" if abs(value) < 10 else f"{value:,.1f}"


def with_ci(metrics: Mapping[str, float], name: str) -> str | None:
    """`estimate (95 % CI low to high)`, or the estimate alone without a logged CI; None if absent."""
    if name not in metrics:
        return None
    low, high = metrics.get(f"{name}_ci_low"), metrics.get(f"{name}_ci_high")
    text = _number(metrics[name])
    return (
        f"{text} (95 % CI {_number(low)} to {_number(high)})"
        if low is not None and high is not None
        else text
    )


def _months(tags: Mapping[str, str], name: str) -> list[str]:
    try:
        return list(json.loads(tags.get(name) or "[]"))
    except ValueError:
        return []


def data_section(tags: Mapping[str, str]) -> list[str]:
    months, tested = _months(tags, "trained_months"), _months(tags, "test_months")
    backtest = _months(tags, "backtest_months")
    span = f"{len(months)} months, {months[0]} to {months[-1]}" if months else "unknown"
    lines = ["## Data", "", f"- Trained on: {span} (every month present, refit after evaluation)"]
    lines.append(f"- Data through: {tags.get('history_end', 'unknown')} (the last day of crime data it saw)")
    if backtest:
        lines.append(f"- Backtest: {len(backtest)} monthly folds, {backtest[0]} to {backtest[-1]}")
    if tested:
        lines.append(f"- Fixed test window: {tested[0]} to {tested[-1]}")
    for tag, label in (
        ("training_data_fingerprint", "Training data fingerprint"),
        ("dagster_run_id", "Dagster run"),
        ("git_commit", "Code commit"),
    ):
        if tags.get(tag):
            lines.append(f"- {label}: `{tags[tag]}`")
    return lines


def configuration_section(tags: Mapping[str, str], params: Mapping[str, str]) -> list[str]:
    lines = ["## Configuration", ""]
    try:
        config = json.loads(tags["model_config"])
    except (KeyError, ValueError):
        config = None
    if isinstance(config, dict):
        weather = "yes" if config.get("weather", True) else "no"
        lines.append(
            f"- Family: {config.get('family')}; level: {config.get('level')}; weather features: {weather}"
        )
        settings = config.get("params") or {}
        if settings:
            lines.append("- Hyperparameters: " + ", ".join(f"{k}={v}" for k, v in sorted(settings.items())))
    elif params:
        lines += [f"- {name}: {value}" for name, value in sorted(params.items())]
    else:
        lines.append("- not recorded")
    return lines


def accuracy_section(metrics: Mapping[str, float]) -> list[str]:
    """One row per month horizon of the rolling-origin backtest, then the paired comparisons."""
    horizons = sorted({int(m[1]) for name in metrics if (m := _HORIZON.match(name))})
    lines = ["## Accuracy", ""]
    if horizons:
        lines += [
            "Rolling-origin backtest, per horizon (months after data through; mean over monthly folds):",
            "",
            "| horizon | " + " | ".join(HORIZON_COLUMNS.values()) + " |",
            "|---|" + "---|" * len(HORIZON_COLUMNS),
        ]
        for h in horizons:
            cells = [with_ci(metrics, f"backtest_h{h}_{name}") or "n/a" for name in HORIZON_COLUMNS]
            lines.append(f"| {h} month{'s' if h > 1 else ''} | " + " | ".join(cells) + " |")
        lines.append("")
    overall = [
        ("Backtest mean Poisson deviance", "backtest_poisson_deviance"),
        ("Model minus best naive level (negative: better)", "backtest_minus_best_naive"),
        ("Predicted / observed over the backtest", "backtest_pred_over_obs"),
        ("80 % / 95 % interval coverage", None),
    ]
    for label, name in overall:
        if name is None:
            if "backtest_coverage_80" in metrics and "backtest_coverage_95" in metrics:
                lines.append(
                    f"- {label}: {_number(metrics['backtest_coverage_80'])} / "
                    f"{_number(metrics['backtest_coverage_95'])}"
                )
        elif (text := with_ci(metrics, name)) is not None:
            lines.append(f"- {label}: {text}")
    fixed = [f"{label} {_number(metrics[name])}" for name, label in FIXED_WINDOW.items() if name in metrics]
    if fixed:
        lines.append("- Fixed test window, mean Poisson deviance: " + "; ".join(fixed))
    if len(lines) == 2:
        lines.append("No backtest metrics were logged for this version.")
    return lines


def weather_section(metrics: Mapping[str, float], tags: Mapping[str, str]) -> list[str]:
    lines = ["## Does the weather help?", ""]
    gain = with_ci(metrics, "backtest_weather_gain")
    verdict = tags.get("weather_verdict")
    if gain is None and verdict is None:
        return [*lines, "Not measured for this version."]
    lines.append(f"**{verdict or 'no verdict recorded'}**.")
    if gain is not None:
        lines += [
            "",
            f"Backtest deviance without weather minus with weather: {gain}. "
            "A claim is made only when the CI excludes 0.",
        ]
    return lines


def limits_section(data_through: str | None, max_horizon_days: int) -> list[str]:
    last = f" (data through {data_through})" if data_through else ""
    return [
        "## Intended use and limits",
        "",
        "- Expected robbery **counts per comuna and day** in Buenos Aires, with prediction intervals: "
        "for planning at the level of a comuna. Not a risk score for an individual, a street or a place.",
        f"- No count for dates more than {max_horizon_days} days after the last day of crime data{last}, "
        "nor before the data: beyond the validated horizon only the weather rate ratio is given.",
        "- Recorded robberies, not all robberies: reporting habits shape what is counted.",
        "- Weather effects are associations measured in past data, not causes.",
    ]


def model_card(name: str, version: str, run: Mapping[str, Mapping[str, Any]], max_horizon_days: int) -> str:
    """The markdown card of `name` v`version` from its run's `metrics`, `tags` and `params`."""
    metrics = {k: float(v) for k, v in (run.get("metrics") or {}).items()}
    tags = {k: str(v) for k, v in (run.get("tags") or {}).items()}
    params = {k: str(v) for k, v in (run.get("params") or {}).items()}
    sections = [
        [
            f"# {name} v{version}",
            "",
            "Expected daily robberies per comuna of Buenos Aires, given the weather.",
        ],
        data_section(tags),
        configuration_section(tags, params),
        accuracy_section(metrics),
        weather_section(metrics, tags),
        limits_section(tags.get("history_end"), max_horizon_days),
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"

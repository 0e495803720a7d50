"""What the weather does to robberies on the shared data, and whether the 95 % CIs can be trusted.

Ingests every shared file (same code as the assets), fits the weather-effects GLM
(crime_weather/modeling/effects/estimate.py) and prints its table, rain per comuna, each weather term entered
alone, and the fit's time. Then draws planted data (rain 0.90, +1 %/°C, humidity and wind no effect:
harness/planted.py) for `--seeds` seeds and prints how often the 95 % CI covers the truth (target
90-99 %). --update-readme writes the README section between the effects markers and the forest plot
at docs/img/weather_effects.png.

    .venv/bin/python benchmarks/effects.py [--data ../shared/data/raw] [--seeds 50] [--update-readme]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from crime_weather.modeling.effects.estimate import one_at_a_time, weather_effects
from crime_weather.modeling.effects.table import Effects, readable, readable_by_comuna
from crime_weather.modeling.reporting import plots
from crime_weather.orchestration.metadata import markdown_table
from harness.planted import HUMIDITY_RATIO, RAIN_RATIO, TEMP_RATIO, WIND_RATIO, planted_features
from harness.shared_data import SHARED_RAW, daily_features

ROOT = Path(__file__).resolve().parents[1]
PLOT = ROOT / "docs" / "img" / "weather_effects.png"
START, END = "<!-- effects:start -->", "<!-- effects:end -->"
TRUTH = {
    "rain": RAIN_RATIO,
    "temperature anomaly": TEMP_RATIO,
    "humidity": HUMIDITY_RATIO,
    "wind": WIND_RATIO,
}


@dataclass
class Coverage:
    """The planted check over many seeds: CI coverage, and the estimates' spread against their SEs."""

    seeds: int
    covered: dict[str, int]
    spread: dict[str, float]  # empirical sd of log rate ratios / mean reported SE (1: calibrated)
    seconds_per_fit: float


def coverage(seeds: int) -> Coverage:
    """How many of `seeds` planted draws have each truth inside its 95 % CI."""
    estimates: dict[str, list[tuple[float, float]]] = {variable: [] for variable in TRUTH}
    covered = dict.fromkeys(TRUTH, 0)
    started = time.perf_counter()
    for seed in range(seeds):
        table = weather_effects(pd.concat(planted_features(seed).values())).table.set_index("variable")
        for variable, truth in TRUTH.items():
            low, ratio, high = table.loc[variable, ["ci_low", "rate_ratio", "ci_high"]]
            covered[variable] += int(low <= truth <= high)
            estimates[variable].append((math.log(ratio), (math.log(high) - math.log(low)) / (2 * 1.96)))
    spread = {}
    for variable, pairs in estimates.items():
        logs, errors = pd.Series([p[0] for p in pairs]), pd.Series([p[1] for p in pairs])
        spread[variable] = float(logs.std() / errors.mean())
    return Coverage(seeds, covered, spread, (time.perf_counter() - started) / seeds)


def _wilson(hits: int, n: int) -> tuple[float, float]:
    """95 % Wilson interval of a proportion: how precisely 50 seeds measure a coverage."""
    z, p = 1.96, hits / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - half) / (1 + z * z / n), (centre + half) / (1 + z * z / n)


def _row(effects: Effects, variable: str) -> pd.Series:
    return effects.table.set_index("variable").loc[variable]


def _ci(row: pd.Series) -> str:
    return f"{row['rate_ratio']:.3f} [{row['ci_low']:.3f}, {row['ci_high']:.3f}]"


def _bins(rows: pd.DataFrame) -> str:
    return ", ".join(
        f"{r.variable.removeprefix('temperature ')} {_ci(pd.Series(r._asdict()))}" for r in rows.itertuples()
    )


def _pct(row: pd.Series) -> str:
    return f"{row['rate_ratio'] - 1:+.2%} [{row['ci_low'] - 1:+.2%}, {row['ci_high'] - 1:+.2%}]"


def section(
    effects: Effects,
    alone: pd.DataFrame,
    planted: Coverage,
    timing: tuple[float, float, float],
    months: list[str],
) -> str:
    info, by_comuna = effects.info, effects.by_comuna
    fit_seconds, fit_cpu, load = timing
    quiet = [
        row.variable
        for row in effects.table.itertuples()
        if row.model == "main" and row.group == "weather" and row.ci_low <= 1 <= row.ci_high
    ]
    rain, temp = _row(effects, "rain"), _row(effects, "temperature anomaly")
    holiday = _row(effects, "public holiday")
    temp_alone = alone.set_index("variable").loc["temperature anomaly"]
    called = by_comuna[by_comuna["ci_high"] < 1]
    strongest, weakest = (
        by_comuna.loc[by_comuna["rate_ratio"].idxmin()],
        by_comuna.loc[by_comuna["rate_ratio"].idxmax()],
    )
    cold = effects.table[effects.table["variable"].isin(["temperature < 10 °C", "temperature 10-15 °C"])]
    hot = effects.table[effects.table["variable"].isin(["temperature 25-28 °C", "temperature >= 28 °C"])]
    shift = info["rainy_day_anomaly"]
    warmth = (
        f"rainy days in Buenos Aires are {shift:.1f} °C warmer than normal on average (summer storms), so "
        "without rain in the model, rain's drop hides part of the warm-day rise"
        if shift > 0
        else f"rainy days are {-shift:.1f} °C cooler than normal, so without rain in the model, rain's drop "
        "is credited to cold"
    )
    covered, seeds = planted.covered, planted.seeds
    covers = ", ".join(
        f"{variable} {covered[variable]}/{seeds} ({covered[variable] / seeds:.0%}, "
        f"95 % CI {_wilson(covered[variable], seeds)[0]:.0%}-{_wilson(covered[variable], seeds)[1]:.0%})"
        for variable in TRUTH
    )
    lines = [
        f"Measured by `benchmarks/effects.py --update-readme` ({dt.date.today():%Y-%m-%d}) on the shared data "
        f"(`../shared/data/raw`, daily_features {months[0]}..{months[-1]}), on this 2-core machine (shared "
        f"with other work, load average {load:.1f}): the fit takes {fit_seconds:.1f} s ({fit_cpu:.1f} s of CPU). The `weather_effects` asset runs the same "
        "function after every retrain; its metadata shows this table and plot, `weather_effects.json` and "
        "the plot sit in the champion's MLflow run, and `GET /effects` serves them.",
        "",
        f"**Rain lowers robberies**: on days with rain >= 1 mm there are {1 - rain['rate_ratio']:.1%} fewer "
        f"(rate ratio {_ci(rain)}), about {-rain['change_per_city_day']:.0f} fewer robberies a day across the "
        f"city. **Temperature matters little**: {_pct(temp)} per °C above the day-of-year normal. "
        f"{' and '.join(quiet).capitalize() or 'Nothing else'} show{'s' if len(quiet) == 1 else ''} no detectable "
        f"effect. For scale, a public holiday: {_ci(holiday)}.",
        "",
        markdown_table(readable(effects.table), rows=len(effects.table)).value,
        "",
        "![Weather effects: rate ratios with 95 % CIs](docs/img/weather_effects.png)",
        "",
        "*Rate ratios with 95 % CIs (log scale); grey: the CI includes 1. Right: rain in each comuna.*",
        "",
        "**How it is measured.** A "
        f"{info['family']} GLM of robberies per (day, comuna) with fixed effects for comuna x weekday, "
        "calendar month and public holidays, and a cubic spline of time (one knot per quarter) for the moving "
        "level; weather enters as rain >= 1 mm, the temperature anomaly against a day-of-year normal (two "
        "harmonics fitted on every day with a temperature), humidity and wind (the main specification); the "
        "rain amount (log1p mm) is added in a second specification, and temperature bins replace the anomaly "
        "in a third. Standard errors are clustered by day (statsmodels' sandwich estimator): the weather is "
        "one value per day for the whole city. The counts are overdispersed (Pearson dispersion "
        f"{info['overdispersion']:.2f} under Poisson), hence the negative binomial. Sample: {info['sample_days']:,} days ({info['first_day']}..{info['last_day']}, "
        f"{info['comuna_days']:,} comuna-days); {info['sample_note']}.",
        "",
        f"**Rain per comuna** (table in the asset's metadata): the rate ratio ranges from "
        f"{strongest['rate_ratio']:.3f} (comuna {strongest['comuna']}) to {weakest['rate_ratio']:.3f} "
        f"(comuna {weakest['comuna']}); {len(called)} of 15 CIs exclude 1; a Wald test that all comunas share "
        f"one rain effect gives p = {info['rain_heterogeneity_p']:.3f}.",
        "",
        f"**Can the CIs be trusted?** On planted data (2 years x 15 comunas, rain 0.90, +1 % per °C, humidity "
        f"and wind without effect, a shock shared by all comunas each day, gamma-Poisson counts: "
        f"`harness/planted.py`), the 95 % CI covers the truth in {covers} of {seeds} seeds "
        "(target 90-99 %; the suite checks one seed). The spread of the estimates across seeds is "
        + ", ".join(f"{variable} {ratio:.2f}" for variable, ratio in planted.spread.items())
        + " times the mean reported standard error (1: the errors are honest; with 50 seeds, +-0.2 is noise).",
        "",
        "**Against the reference point** (an independent estimate on the same data, 2017-01..2020-02, day-clustered): "
        f"rain 0.941 [0.919, 0.963] there, {_ci(rain)} here; holiday 0.747 [0.707, 0.789] there, "
        f"{_ci(holiday)} here; overdispersion ~1.5 there, {info['overdispersion']:.2f} here; humidity and wind "
        f"not significant in both. The temperature anomaly differs: +0.2 % per °C with a CI including 0 "
        f"there, {_pct(temp)} here. Entered alone, as this benchmark also fits it, the anomaly gives "
        f"{_pct(temp_alone)}, close to the reference. The difference is the adjustment: {warmth}. "
        f"Adjusted, the effect is small (a day 5 °C warmer than normal: {math.pow(temp['rate_ratio'], 5) - 1:+.1%}) "
        "and its CI's lower end is near 0: weak evidence of a small warm-day increase.",
        "",
        "**Against the literature.** Munyo (Montevideo, same climate, robbery included) found -1 % on rainy "
        "days and +0.3 % per °C: our per-degree effect is of the same size; our rain effect is larger "
        f"({rain['rate_ratio'] - 1:+.1%} on days with >= 1 mm). Ranson (2014, US counties) found property "
        "crime falls on cold days and rises little on hot ones. Against days of 15-20 °C, ours below 15 °C "
        f"have {_bins(cold)}, ours above 25 °C {_bins(hot)}: "
        + (
            "the same shape. "
            if (cold["ci_high"] < 1).all() and not (hot["ci_low"] > 1).any()
            else "a different shape. "
        )
        + "Tompson & Bowers (2015, street robbery, negative binomial) found rain lowers robbery, at weekends "
        "especially; we estimate one rain effect for all weekdays.",
        "",
        "**Caveats.** " + " ".join(info["caveats"]),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=SHARED_RAW)
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    pd.set_option("display.max_colwidth", 60)

    frames = daily_features(args.data)
    features = pd.concat(frames.values(), ignore_index=True)
    started, cpu = time.perf_counter(), time.process_time()
    load = os.getloadavg()[0]
    effects = weather_effects(features)
    fit_seconds, fit_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"{len(features):,} comuna-days, {len(frames)} months; fit {fit_seconds:.1f} s wall, {fit_cpu:.1f} s CPU"
    )
    print(
        f"{effects.info['family']}; overdispersion {effects.info['overdispersion']:.3f}; {effects.info['sample_note']}"
    )
    print(readable(effects.table).to_string(index=False))
    print("\nrain >= 1 mm per comuna:")
    print(readable_by_comuna(effects.by_comuna).to_string(index=False))
    print(f"heterogeneity (Wald, one rain effect for all): p = {effects.info['rain_heterogeneity_p']:.4f}")
    alone = one_at_a_time(features)
    print("\neach weather term alone:")
    print(alone.round(4).to_string(index=False))

    print(f"\nplanted coverage over {args.seeds} seeds ({os.cpu_count()} cores) ...", flush=True)
    planted = coverage(args.seeds)
    covered = planted.covered
    for variable, truth in TRUTH.items():
        low, high = _wilson(covered[variable], args.seeds)
        print(
            f"  {variable} (truth {truth}): {covered[variable]}/{args.seeds} = {covered[variable] / args.seeds:.0%} "
            f"(Wilson 95 % CI {low:.0%}-{high:.0%})"
        )
    print("  spread of the estimates / mean SE:", {v: round(r, 3) for v, r in planted.spread.items()})
    print(f"  {planted.seconds_per_fit:.1f} s per planted fit")

    if args.update_readme:
        PLOT.parent.mkdir(parents=True, exist_ok=True)
        title = f"Weather and robberies, {effects.info['first_day']}..{effects.info['last_day']}"
        PLOT.write_bytes(plots.forest(effects.table, effects.by_comuna, title))
        readme = ROOT / "README.md"
        text = readme.read_text()
        before, rest = text.split(START, 1)
        _, after = rest.split(END, 1)
        timing = (fit_seconds, fit_cpu, load)
        body = section(effects, alone, planted, timing, sorted(frames))
        readme.write_text(f"{before}{START}\n{body}\n{END}{after}")
        print(f"updated {readme} and {PLOT}")


if __name__ == "__main__":
    main()

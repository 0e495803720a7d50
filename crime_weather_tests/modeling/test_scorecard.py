"""The outlook and the scorecard as pure functions, each figure against an independent computation."""

import numpy as np
import pandas as pd
import pytest

from crime_weather.core.names import NAIVE_COLUMNS, OUTLOOK_COLUMNS, SCORECARD_COLUMNS, TARGET
from crime_weather.modeling.estimation.metrics import NAIVE_WINDOWS, naive_name
from crime_weather.modeling.estimation.pipeline import build_pipeline, model_input
from crime_weather.modeling.forecasting.forecast import forecast_table
from crime_weather.modeling.forecasting.grading import calibration_failures, naive_failures
from crime_weather.modeling.forecasting.horizon import MAX_HORIZON_DAYS, data_through, horizon_month
from crime_weather.modeling.forecasting.outlook import outlook_table
from crime_weather.modeling.forecasting.scorecard import (
    forecast_claims,
    forecast_issues_touching,
    month_claims,
    outlook_claims,
    score_claims,
)
from crime_weather.tables.schemas import champion_outlook_schema, forecast_scorecard_schema
from harness.models import model_config, synthetic_features

TRAINED = ["2019-01", "2019-02", "2019-03"]
ISSUED = pd.Timestamp("2026-06-01T10:00:00Z")


@pytest.fixture(scope="module")
def frames():
    return synthetic_features([*TRAINED, "2019-04", "2019-05"], seed=3)


@pytest.fixture(scope="module")
def history(frames):
    return pd.concat([frames[month] for month in TRAINED], ignore_index=True)


@pytest.fixture(scope="module")
def pipeline(history):
    return build_pipeline(model_config()).fit(model_input(history), history[TARGET])


@pytest.fixture(scope="module")
def outlook(pipeline, history):
    return outlook_table(pipeline, "7", history, issued_at=ISSUED)


def test_the_outlook_covers_exactly_the_horizon_after_the_data_x_15_comunas(outlook, pipeline, history):
    first, last = pd.Timestamp("2019-04-01"), pd.Timestamp("2019-03-31") + pd.Timedelta(days=MAX_HORIZON_DAYS)
    assert list(outlook.columns) == list(OUTLOOK_COLUMNS)
    assert len(outlook) == MAX_HORIZON_DAYS * 15 and last == pd.Timestamp("2019-10-01")
    assert set(outlook["date"]) == set(pd.date_range(first, last)) and set(outlook["comuna"]) == set(
        range(1, 16)
    )
    assert outlook["horizon_days"].min() == 1 and outlook["horizon_days"].max() == MAX_HORIZON_DAYS
    assert (outlook["data_through"] == pd.Timestamp("2019-03-31")).all()
    champion_outlook_schema("7", MAX_HORIZON_DAYS).validate(outlook)
    # The claims are the model's own under normal weather (null weather).
    np.testing.assert_allclose(
        outlook["expected_robberies"], pipeline.predict(model_input(outlook.assign(temp_mean=np.nan)))
    )
    # A naive level recomputed by hand: comuna 4's mean on its weekday over the 28 days before April.
    assert list(NAIVE_COLUMNS) == [naive_name(window) for window in NAIVE_WINDOWS]
    row = outlook[(outlook["comuna"] == 4) & (outlook["date"] == "2019-06-12")].iloc[0]
    window = history[(history["date"] >= "2019-03-04") & (history["comuna"] == 4)]
    same_weekday = window[window["date"].dt.weekday == pd.Timestamp("2019-06-12").weekday()]
    assert row["naive_28d"] == pytest.approx(same_weekday[TARGET].mean())
    later = history.assign(robberies=history[TARGET] + 100, date=history["date"] + pd.Timedelta(days=90))
    assert outlook_table(pipeline, "7", pd.concat([history, later]))["naive_all"].equals(outlook["naive_all"])


def test_horizon_months_are_calendar_months_from_the_day_after_the_data():
    dates = ["2019-04-01", "2019-04-30", "2019-05-01", "2019-09-30", "2019-10-01"]
    assert horizon_month(dates, pd.Timestamp("2019-03-31")).tolist() == [1, 1, 2, 6, 6]
    mid_month = ["2019-03-16", "2019-03-31", "2019-04-01", "2019-08-31", "2019-09-16"]
    assert horizon_month(mid_month, pd.Timestamp("2019-03-15")).tolist() == [1, 1, 2, 6, 6]


def _independent(observed: np.ndarray, expected: np.ndarray) -> dict[str, float]:
    """Plain numpy, not the module's functions."""
    y, mu = observed.astype(float), expected.astype(float)
    log_term = np.zeros_like(y)
    log_term[y > 0] = y[y > 0] * np.log(y[y > 0] / mu[y > 0])
    return {
        "poisson_deviance": float(np.mean(2 * (log_term - (y - mu)))),
        "mae": float(np.mean(np.abs(y - mu))),
        "pred_over_obs": float(mu.sum() / y.sum()),
    }


def test_every_figure_equals_an_independent_computation(outlook, pipeline, frames):
    weather = frames["2019-04"].groupby("date", as_index=False).first().query("date >= '2019-04-10'").head(7)
    forecast = forecast_table(
        weather,
        pipeline.predict,
        model_version="7",
        weather_source="test",
        issued_at=ISSUED,
        data_through=data_through(pipeline),
    )
    observed = pd.concat([frames["2019-04"], frames["2019-05"]], ignore_index=True)
    claims = pd.concat([outlook_claims(outlook), forecast_claims(forecast, "2019-04-10")], ignore_index=True)
    scored = score_claims(claims, observed)
    table = scored.table
    assert scored.reason is None and list(table.columns) == list(SCORECARD_COLUMNS)
    for month in ("2019-04", "2019-05"):
        forecast_scorecard_schema(month).validate(table[table["month"] == month])
    # Outlook: April is horizon month 1 (days 1..30), May month 2 (31..61); forecasts: lead days 1..7.
    keys = set(zip(table["month"], table["source"], table["horizon"], strict=True))
    assert keys == {("2019-04", "outlook", 1), ("2019-05", "outlook", 2)} | {
        ("2019-04", "forecast", day) for day in range(1, 8)
    }
    truth = observed.set_index(["date", "comuna"])[TARGET]
    for month, horizon in (("2019-04", 1), ("2019-05", 2)):
        rows = outlook[outlook["date"].dt.strftime("%Y-%m") == month]
        y = truth.reindex(pd.MultiIndex.from_frame(rows[["date", "comuna"]])).to_numpy()
        got = table[(table["source"] == "outlook") & (table["horizon"] == horizon)].iloc[0]
        assert got["n"] == len(rows) == 15 * pd.Timestamp(f"{month}-01").days_in_month
        for field, value in _independent(y, rows["expected_robberies"].to_numpy()).items():
            assert got[field] == pytest.approx(value, rel=1e-12)
        for level in (80, 95):
            inside = (y >= rows[f"interval_{level}_low"]) & (y <= rows[f"interval_{level}_high"])
            assert got[f"coverage_{level}"] == pytest.approx(inside.mean())
        naive = {name: _independent(y, rows[name].to_numpy()) for name in NAIVE_COLUMNS}
        for name, values in naive.items():
            for field, value in values.items():
                assert got[f"{name}_{field}"] == pytest.approx(value, rel=1e-12)
        best = min(naive, key=lambda name: naive[name]["poisson_deviance"])
        assert got["best_naive"] == best
    day_three = forecast[forecast["date"] == "2019-04-12"]
    y = truth.reindex(pd.MultiIndex.from_frame(day_three[["date", "comuna"]])).to_numpy()
    got = table[(table["source"] == "forecast") & (table["horizon"] == 3)].iloc[0]
    assert got["source_key"] == "2019-04-10" and got["n"] == 15 and pd.isna(got["best_naive"])
    assert got["poisson_deviance"] == pytest.approx(
        _independent(y, day_three["expected_robberies"].to_numpy())["poisson_deviance"]
    )
    # Deterministic: scoring again gives the same rows.
    pd.testing.assert_frame_equal(score_claims(claims, observed).table, table)


def test_a_month_no_claim_covers_is_an_empty_table_and_the_reason(outlook, frames):
    scored = score_claims(outlook_claims(outlook), frames["2019-02"])
    assert scored.table.empty and list(scored.table.columns) == list(SCORECARD_COLUMNS)
    assert (
        scored.reason == "no stored claim covers a day of 2019-02 (the claims cover 2019-04-01..2019-10-01)"
    )
    nothing = score_claims(month_claims({}, {}, "2019-02"), frames["2019-02"])
    assert nothing.table.empty and "no claim is stored" in nothing.reason


def test_the_claims_of_a_month_are_the_outlook_days_in_it_and_the_issues_reaching_into_it(outlook):
    claims = month_claims({"7": outlook}, {}, "2019-05")
    assert len(claims) == 31 * 15 and set(claims["horizon"]) == {2}
    issues = ["2019-04-24", "2019-04-25", "2019-05-31", "2019-06-01", "notes"]
    assert forecast_issues_touching("2019-05", issues, 7) == ["2019-04-25", "2019-05-31"]


def test_a_planted_shift_is_not_calibrated_and_an_unshifted_truth_is(outlook):
    april = outlook[outlook["date"].dt.month == 4]
    rng = np.random.default_rng(0)
    truth = april[["date", "comuna"]].assign(robberies=rng.poisson(april["expected_robberies"]))
    shifted = truth.assign(robberies=rng.poisson(0.7 * april["expected_robberies"]))
    fair = score_claims(outlook_claims(april), truth).table
    assert calibration_failures(fair, "7") == [] and naive_failures(fair, "7") == []
    (failure,) = calibration_failures(score_claims(outlook_claims(april), shifted).table, "7")
    assert (
        failure.startswith("v7 on 2019-04, horizon month 1 (n=450): ") and "predicted/observed 1.4" in failure
    )
    assert calibration_failures(fair, "8") == []  # another version's claims are not judged


def test_claims_worse_than_a_naive_level_issued_with_them_are_named(outlook):
    april = outlook[outlook["date"].dt.month == 4]
    truth = april[["date", "comuna"]].assign(robberies=np.random.default_rng(1).poisson(april["naive_28d"]))
    inflated = outlook_claims(april.assign(expected_robberies=1.5 * april["expected_robberies"]))
    table = score_claims(inflated, truth).table
    (failure,) = naive_failures(table, "7")
    best = table["best_naive"].iloc[0]
    assert failure.startswith("v7 on 2019-04, horizon month 1 (n=450): Poisson deviance ")
    assert f"above {best} {table['best_naive_poisson_deviance'].iloc[0]:.4f}" in failure


def test_a_few_days_of_claims_are_scored_but_not_judged(outlook):
    last_days = outlook[outlook["date"] >= "2019-09-25"]  # 6 days of September, the last of October
    truth = last_days[["date", "comuna"]].assign(robberies=0)
    table = score_claims(outlook_claims(last_days), truth).table
    assert table[["month", "horizon", "n"]].values.tolist() == [["2019-09", 6, 90], ["2019-10", 6, 15]]
    assert calibration_failures(table, "7") == [] and naive_failures(table, "7") == []
    week = outlook[outlook["date"] >= "2019-09-24"]
    zero = week[["date", "comuna"]].assign(robberies=0)
    assert len(calibration_failures(score_claims(outlook_claims(week), zero).table, "7")) == 1

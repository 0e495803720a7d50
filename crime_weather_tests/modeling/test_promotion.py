"""The promotion rule, branch by branch (modeling.selection.promotion.decide is the only place it lives), and
the regression guard it reads (generated data)."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from crime_weather.modeling.estimation.config import DEFAULT_GLM, DEFAULT_HGB
from crime_weather.modeling.selection.bootstrap import Difference
from crime_weather.modeling.selection.contest import regression_guard
from crime_weather.modeling.selection.promotion import Action, Candidate, Contest, decide

DATA = "fingerprint-now"
CHAMPION = Candidate("1", "run-1", DEFAULT_HGB, "fingerprint-before")
CHALLENGER = Candidate("2", "run-2", DEFAULT_GLM, DATA)
SAME_AS_CHAMPION = Candidate("2", "run-2", DEFAULT_HGB, DATA)
BETTER = Difference(-0.03, -0.044, -0.017)
STRADDLES = Difference(-0.004, -0.011, +0.003)
REGRESSED = Difference(0.02, 0.008, 0.031)


def _contest(challenger=CHALLENGER, champion=CHAMPION, comparison=None, guard=None) -> Contest:
    return Contest(challenger, champion, DATA, ("2019-03", "2019-04"), comparison, guard)


def test_with_no_champion_the_challenger_serves():
    decision = decide(_contest(champion=None))
    assert decision.action is Action.SERVE_CHALLENGER and decision.label == "promoted"


def test_a_different_configuration_wins_only_when_the_whole_ci_is_below_zero():
    decision = decide(_contest(comparison=BETTER))
    assert decision.action is Action.SERVE_CHALLENGER and "better" in decision.reason


def test_a_challenger_whose_ci_straddles_zero_is_refused_and_the_champions_configuration_refit():
    decision = decide(_contest(comparison=STRADDLES))
    assert decision.action is Action.REFIT_CHAMPION and decision.label == "rejected"
    assert "not better" in decision.reason and str(STRADDLES) in decision.reason


def test_a_worse_challenger_leaves_a_champion_trained_on_this_data_as_it_is():
    fresh = replace(CHAMPION, fingerprint=DATA)
    decision = decide(_contest(champion=fresh, comparison=Difference(0.05, 0.03, 0.07)))
    assert decision.action is Action.KEEP_CHAMPION and decision.label == "rejected"


def test_the_champions_configuration_refreshed_on_new_data_serves_without_a_contest():
    decision = decide(_contest(challenger=SAME_AS_CHAMPION, guard=Difference(0.0, 0.0, 0.0)))
    assert decision.action is Action.SERVE_CHALLENGER and decision.label == "refreshed"


def test_the_same_configuration_on_the_same_data_changes_nothing():
    fresh = replace(CHAMPION, fingerprint=DATA)
    assert decide(_contest(challenger=SAME_AS_CHAMPION, champion=fresh)).action is Action.KEEP_CHAMPION


@pytest.mark.parametrize("challenger, comparison", [(SAME_AS_CHAMPION, None), (CHALLENGER, STRADDLES)])
def test_a_refresh_that_regresses_on_the_same_days_keeps_the_champion(challenger, comparison):
    decision = decide(_contest(challenger=challenger, comparison=comparison, guard=REGRESSED))
    assert decision.action is Action.KEEP_CHAMPION and "regressed" in decision.reason


def test_a_refresh_within_its_ci_is_served():
    noise = Difference(0.001, -0.002, 0.004)
    assert decide(_contest(challenger=SAME_AS_CHAMPION, guard=noise)).action is Action.SERVE_CHALLENGER


def test_versions_without_a_configuration():
    no_config = replace(CHAMPION, config=None)
    assert decide(_contest(champion=no_config)).action is Action.SERVE_CHALLENGER
    decision = decide(_contest(challenger=replace(CHALLENGER, config=None)))
    assert decision.action is Action.KEEP_CHAMPION and "no configuration" in decision.reason


def test_a_challenger_that_already_serves_is_not_recorded_again():
    decision = decide(_contest(challenger=CHAMPION))
    assert (decision.action, decision.record) == (Action.KEEP_CHAMPION, False)


def test_the_regression_guard_compares_the_rows_both_backtests_predicted():
    rng = np.random.default_rng(0)
    dates = np.repeat(pd.date_range("2019-03-01", "2019-05-31"), 15)
    now = pd.DataFrame({"date": dates, "comuna": np.tile(np.arange(1, 16), len(dates) // 15)})
    now["month"] = now["date"].dt.strftime("%Y-%m")
    rate = rng.uniform(5, 15, len(now))
    now["robberies"], now["model"] = rng.poisson(rate), rate
    recorded = now[now["month"] < "2019-05"].copy()  # the champion's backtest: one month less
    assert regression_guard(now, recorded, seed=0) == Difference(0.0, 0.0, 0.0)  # same predictions
    worse = now.assign(model=now["model"] * 1.3)
    guard = regression_guard(worse, recorded, seed=0)
    assert guard is not None and guard.low > 0  # measurably worse on the common days: trips
    assert regression_guard(now, None, seed=0) is None  # nothing recorded: the guard cannot apply
    assert regression_guard(now, recorded.assign(date=recorded["date"] - pd.Timedelta(days=400)), 0) is None


def test_the_gate_applies_only_when_the_alias_would_move():
    from crime_weather.modeling.selection.promotion import changes_champion

    assert changes_champion(_contest(champion=None), CHALLENGER.version)  # a first champion
    assert changes_champion(_contest(), CHALLENGER.version)  # the challenger takes over
    assert changes_champion(_contest(), "3")  # a refit of the champion's configuration
    assert not changes_champion(_contest(), CHAMPION.version)  # the champion stays


def test_a_challenger_better_next_month_but_worse_months_ahead_is_refused_and_every_horizon_recorded():
    horizons = ((1, BETTER), (2, STRADDLES), (3, REGRESSED))
    contest = replace(_contest(comparison=BETTER), horizons=horizons)
    decision = decide(contest)
    assert decision.action is Action.REFIT_CHAMPION and decision.label == "rejected"
    assert "worse at h = [3]" in decision.reason
    assert all(f"h{h} {difference}" in decision.reason for h, difference in horizons)


def test_a_challenger_better_next_month_and_not_worse_beyond_the_ci_later_is_promoted():
    contest = replace(_contest(comparison=BETTER), horizons=((1, BETTER), (2, STRADDLES), (6, STRADDLES)))
    decision = decide(contest)
    assert decision.action is Action.SERVE_CHALLENGER and "h6" in decision.reason

import pandas as pd
import pytest

from crime_weather.modeling.estimation.metrics import comuna_weekday_baseline, scores
from crime_weather.modeling.selection.split import fingerprint, temporal_split
from crime_weather.tables.validation import validate_split
from harness.models import synthetic_features

MONTHS = [f"2019-{m:02d}" for m in range(1, 9)]


def test_test_is_the_last_months_and_train_everything_before():
    frames = synthetic_features(list(reversed(MONTHS)))  # order of arrival does not matter
    split = temporal_split(frames, test_months=2)
    assert split.train_months == MONTHS[:6] and split.test_months == ["2019-07", "2019-08"]
    assert split.train["date"].max() < split.test["date"].min()
    assert validate_split(split.train, split.test) == []


def test_too_few_months_is_a_clear_error():
    with pytest.raises(ValueError, match=r"2 months of data .* need more than test_months=2"):
        temporal_split(synthetic_features(MONTHS[:2]), test_months=2)


def test_validate_split_names_leaks_and_overlaps():
    split = temporal_split(synthetic_features(MONTHS), test_months=2)
    leaked = pd.concat([split.train, split.test.head(15)])
    problems = validate_split(leaked, split.test)
    assert any("not after train's last day" in p for p in problems)
    assert any("15 (date, comuna) rows are in both" in p for p in problems)


def test_fingerprint_changes_with_content_only():
    frame = synthetic_features(MONTHS[:1])["2019-01"]
    assert fingerprint(frame) == fingerprint(frame.copy())
    changed = frame.copy()
    changed.loc[0, "robberies"] += 1
    assert fingerprint(changed) != fingerprint(frame)


def test_scores_and_the_comuna_weekday_baseline():
    split = temporal_split(synthetic_features(MONTHS), test_months=2)
    baseline = comuna_weekday_baseline(split.train, split.test)
    assert len(baseline) == len(split.test) and (baseline > 0).all()
    perfect, base = (
        scores(split.test["robberies"], split.test["robberies"] + 1e-9),
        scores(split.test["robberies"], baseline),
    )
    assert perfect["mae"] < 1e-3 and base["poisson_deviance"] > perfect["poisson_deviance"]
    assert set(base) == {"poisson_deviance", "mae", "rmse"}

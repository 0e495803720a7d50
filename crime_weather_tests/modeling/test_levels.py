"""Level specs on a planted history (generated counts, exact expectations)."""

import numpy as np
import pytest

from crime_weather.modeling.features.levels import LEVEL_FLOOR, LevelSpec, level_table, origins_of

FIRST = np.datetime64("2019-01-01")


def _history(days: int = 240, rate: float = 10.0, drop_at: int | None = None) -> np.ndarray:
    """Constant counts per comuna (comuna c: rate x c / 8), times 0.8 from day `drop_at`."""
    history = np.tile(rate * np.arange(1, 16) / 8, (days, 1))
    if drop_at is not None:
        history[drop_at:] *= 0.8
    return history


def test_origins_are_month_starts_then_the_day_after_the_history():
    origins = origins_of(FIRST, np.datetime64("2019-03-15"))
    assert [str(day) for day in origins] == ["2019-01-01", "2019-02-01", "2019-03-01", "2019-03-16"]


@pytest.mark.parametrize("name", ["ewm30_cmom28", "ewm21_cmom21", "mean91_cmom28"])
def test_a_steady_history_gives_each_comunas_own_rate(name):
    table = level_table(_history(), FIRST, LevelSpec.parse(name))
    np.testing.assert_allclose(table.levels[3], 10.0 * np.arange(1, 16) / 8)  # 2019-04-01
    assert list(table.history_days[:3]) == [0, 31, 59]


@pytest.mark.parametrize("name", ["ewm30_cmom28", "ewm45_cmom21", "mean91_cmom28"])
def test_a_city_wide_drop_is_fully_visible_a_month_later(name):
    drop = int((np.datetime64("2019-05-01") - FIRST).astype(int))
    table = level_table(_history(drop_at=drop), FIRST, LevelSpec.parse(name))
    months = [str(day)[:7] for day in table.origins]
    may, june = months.index("2019-05"), months.index("2019-06")
    expected = 10.0 * np.arange(1, 16) / 8
    np.testing.assert_allclose(table.levels[may], expected)  # the drop is not known yet
    np.testing.assert_allclose(table.levels[june], 0.8 * expected, rtol=0.02)


def test_no_level_is_one_and_a_quiet_comuna_keeps_a_positive_level():
    history = _history()
    history[:, 0] = 0.0
    assert (level_table(history, FIRST, LevelSpec.parse("none")).levels == 1).all()
    assert level_table(history, FIRST, LevelSpec.parse("ewm30_cmom28")).levels[:, 0].min() == LEVEL_FLOOR


def test_an_unknown_spec_is_refused():
    with pytest.raises(ValueError, match="unknown level spec"):
        LevelSpec.parse("ewm30_mom10")

"""The champion's card: which model, the data it rests on, its backtest accuracy per horizon, and the
weather verdict its training run recorded (the `weather_verdict` tag, read once per run)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from crime_weather.modeling.registry.tracking import client_for
from serving.model_store import Champion

WEATHER_VERDICT_TAG = "weather_verdict"
_HORIZON_METRIC = re.compile(r"^backtest_h(\d+)_(poisson_deviance|best_naive_poisson_deviance|coverage_80)$")


@dataclass(frozen=True)
class HorizonScore:
    """The backtest at one horizon: the model's mean Poisson deviance, the best naive level's, and how
    often the 80 % interval held the count (each None when the run did not log it)."""

    horizon: int
    deviance: float | None
    naive_deviance: float | None
    coverage_80: float | None


@dataclass(frozen=True)
class ChampionCard:
    version: str
    run_id: str
    promoted_at: str | None
    data_through: str | None
    horizons: list[HorizonScore]
    verdict: str | None


def horizon_scores(metrics: dict[str, float]) -> list[HorizonScore]:
    """`backtest_h{h}_*` metrics grouped by horizon, in horizon order."""
    found: dict[int, dict[str, float]] = {}
    for name, value in metrics.items():
        if match := _HORIZON_METRIC.match(name):
            found.setdefault(int(match[1]), {})[match[2]] = value
    return [
        HorizonScore(
            horizon,
            values.get("poisson_deviance"),
            values.get("best_naive_poisson_deviance"),
            values.get("coverage_80"),
        )
        for horizon, values in sorted(found.items())
    ]


class VerdictReader:
    """The `weather_verdict` tag of a run, read from MLflow once per run (a run's tags do not change
    after training); an unreachable registry gives None and is asked again next time."""

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        self._verdicts: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def verdict(self, run_id: str) -> str | None:
        with self._lock:
            if run_id in self._verdicts:
                return self._verdicts[run_id]
        try:
            tags = client_for(self.tracking_uri).get_run(run_id).data.tags
        except Exception:  # the registry is down: the card says the verdict is unknown
            return None
        with self._lock:
            self._verdicts[run_id] = tags.get(WEATHER_VERDICT_TAG)
        return self._verdicts[run_id]


def champion_card(champion: Champion, verdicts: VerdictReader) -> ChampionCard:
    info = champion.info
    return ChampionCard(
        version=info.version,
        run_id=info.run_id,
        promoted_at=info.promoted_at,
        data_through=info.history_end,
        horizons=horizon_scores(info.metrics),
        verdict=verdicts.verdict(info.run_id),
    )

"""A model configuration: what the search chooses and what promotion compares.

Family, level spec, features and hyperparameters, stored as JSON on every MLflow run and model version
so that any configuration can be rebuilt and retrained on new data (promotion compares procedures,
not stale artifacts).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from crime_weather.modeling.features.levels import SEARCHED_LEVELS, LevelSpec

HGB, GLM = "hgb", "glm"
FAMILIES = (HGB, GLM)


@dataclass(frozen=True)
class ModelConfig:
    family: str  # HGB: gradient boosting with a Poisson loss; GLM: Poisson regression on splines
    level: str  # a level spec (modeling.levels): the offset the model predicts relative to
    weather: bool = True  # engineered weather features (rain >= 1 mm, log1p rain, temperature, anomaly)
    params: dict[str, Any] = field(default_factory=dict)  # the family's hyperparameters

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"unknown model family {self.family!r}: expected one of {FAMILIES}")
        LevelSpec.parse(self.level)

    def to_json(self) -> str:
        """Canonical JSON: two configurations are the same procedure iff their JSON is equal."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        return cls(**json.loads(text))

    def without_weather(self) -> ModelConfig:
        """The ablation arm: the same hyperparameters, no weather features."""
        return replace(self, weather=False)

    @property
    def label(self) -> str:
        return f"{self.family} {self.level}{'' if self.weather else ' no weather'}"


# The model study's tuned configurations (REPORT.md; Optuna on the folds before its backtest): the
# search starts from them, so it can only find something better on its own folds.
DEFAULT_HGB = ModelConfig(
    HGB,
    "ewm30_cmom28",
    params={
        "learning_rate": 0.023,
        "max_iter": 50,
        "max_leaf_nodes": 18,
        "min_samples_leaf": 20,
        "l2_regularization": 0.225,
        "max_features": 0.614,
    },
)
DEFAULT_GLM = ModelConfig(
    GLM,
    "mean91_cmom28",
    params={"alpha": 0.0765, "doy_knots": 9, "temperature": "bins", "comuna_weekday": True},
)
assert DEFAULT_HGB.level in SEARCHED_LEVELS and DEFAULT_GLM.level in SEARCHED_LEVELS

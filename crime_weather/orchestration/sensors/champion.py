"""What the promotion sensors share: has the `champion` alias moved since the cursor?

A promotion is the alias moving, whoever moved it (the retrain, `make retrain`, a person in MLflow's
UI), and the first champion ever counts too; both forecast_on_promotion and outlook_on_promotion ask
this one question, the same way.
"""

import dagster as dg

from crime_weather.modeling.registry.versions import CHAMPION, alias_version
from crime_weather.orchestration.resources import MlflowTracking


def new_champion(cursor: str | None, mlflow_tracking: MlflowTracking) -> str | dg.SkipReason:
    """The champion's version when it differs from `cursor` (the last version handled), else why not."""
    # Asked first and briefly: MLflow's own client retries for minutes when the server is down.
    if reason := mlflow_tracking.unreachable():
        return dg.SkipReason(f"MLflow at {mlflow_tracking.tracking_uri} cannot be reached ({reason}).")
    champion = alias_version(mlflow_tracking.client(), mlflow_tracking.registered_model, CHAMPION)
    if champion is None:
        return dg.SkipReason(f"No '{CHAMPION}' alias on {mlflow_tracking.registered_model} yet.")
    version = str(champion.version)
    if version == cursor:
        return dg.SkipReason(f"Champion v{version} unchanged.")
    return version

"""Every registered version carries its model card as its MLflow description (the registry's page for
the version shows it): written from the version's own run, right after the version is registered."""

from __future__ import annotations

from mlflow.tracking import MlflowClient

from crime_weather.modeling.reporting.model_card import model_card


def write_model_card(client: MlflowClient, name: str, version: str, max_horizon_days: int) -> str:
    """Build `name` v`version`'s card from its run (metrics, params, run tags with the version's tags
    over them) and set it as the version's description; returns the card."""
    model_version = client.get_model_version(name, version)
    run = client.get_run(model_version.run_id)
    card = model_card(
        name,
        str(version),
        {
            "metrics": run.data.metrics,
            "params": run.data.params,
            "tags": {**run.data.tags, **model_version.tags},
        },
        max_horizon_days,
    )
    client.update_model_version(name, str(version), description=card)
    return card

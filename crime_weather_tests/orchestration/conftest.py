"""A real MLflow registry with a champion, shared by the orchestration tests that only read it."""

import pytest

from harness.models import register_model, tracking_uri


@pytest.fixture(scope="session")
def champion_registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A sqlite registry whose `crime_weather@champion` is version 1. Tests that promote use their own."""
    uri = tracking_uri(tmp_path_factory.mktemp("champion-registry"))
    assert register_model(uri, seed=1) == "1"
    return uri

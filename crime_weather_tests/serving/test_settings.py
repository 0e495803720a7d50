"""The API's own settings: the CRIME_WEATHER_API_* variables compose and operators already set."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from serving.settings import ApiSettings

SERVING = Path(__file__).resolve().parents[2] / "serving"

# Every variable the API has always read, a value other than its default, and that value parsed.
VARIABLES = {
    "CRIME_WEATHER_API_HOST": ("0.0.0.0", "host", "0.0.0.0"),
    "CRIME_WEATHER_API_PORT": ("9900", "port", 9900),
    "CRIME_WEATHER_API_POLL_SECONDS": ("2.5", "poll_seconds", 2.5),
    "CRIME_WEATHER_API_MAX_BATCH": ("50", "max_batch", 50),
    "CRIME_WEATHER_API_MAX_BODY_BYTES": ("4096", "max_body_bytes", 4096),
    "CRIME_WEATHER_API_BATCH_WAIT_MS": ("0", "batch_wait_ms", 0.0),
    "CRIME_WEATHER_API_BATCH_MAX_ROWS": ("64", "batch_max_rows", 64),
    "CRIME_WEATHER_API_PREDICT_THREADS": ("2", "predict_threads", 2),
    "CRIME_WEATHER_API_REGISTRY_TIMEOUT_SECONDS": ("2", "registry_timeout_seconds", 2),
    "CRIME_WEATHER_API_SWITCH_INTERVAL_MS": ("0.2", "switch_interval_ms", 0.2),
    "CRIME_WEATHER_API_ACCESS_LOG": ("true", "access_log", True),
    # The platform's one horizon variable, shared with the forecast (no API_ prefix: one name).
    "CRIME_WEATHER_MAX_HORIZON_DAYS": ("30", "max_horizon_days", 30),
}


def test_every_variable_is_read_by_its_name(home: Path, monkeypatch: pytest.MonkeyPatch):
    assert set(ApiSettings.model_fields) == {field for _, field, _ in VARIABLES.values()}
    for name, (text, _, _) in VARIABLES.items():
        monkeypatch.setenv(name, text)
    settings = ApiSettings()
    assert {field: getattr(settings, field) for _, field, _ in VARIABLES.values()} == {
        field: value for _, field, value in VARIABLES.values()
    }


def test_an_empty_variable_means_the_default(home: Path, monkeypatch: pytest.MonkeyPatch):
    for name in VARIABLES:
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("CRIME_WEATHER_API_HOST_PORT", "18800")  # compose's, not the API's: ignored
    assert ApiSettings() == ApiSettings.model_construct()
    assert (ApiSettings().host, ApiSettings().port, ApiSettings().max_batch) == ("127.0.0.1", 8800, 10_000)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("CRIME_WEATHER_API_BATCH_WAIT_MS", "51"),
        ("CRIME_WEATHER_API_PREDICT_THREADS", "0"),
        ("CRIME_WEATHER_API_SWITCH_INTERVAL_MS", "0"),
        ("CRIME_WEATHER_API_PORT", "eighty"),
    ],
)
def test_a_value_out_of_bounds_is_refused_at_startup(home: Path, monkeypatch: pytest.MonkeyPatch, name, text):
    monkeypatch.setenv(name, text)
    with pytest.raises(ValidationError, match=VARIABLES[name][1]):
        ApiSettings()


def test_serving_reads_its_settings_and_its_state_through_neither_core_nor_app_state():
    """The API's settings are ApiSettings' (no `settings.api_*` of the platform's settings), and the
    handlers receive what they need as dependencies (no `state.<name>` or `state[<key>]`)."""
    found = [
        f"{path.relative_to(SERVING.parent)}:{number}: {line.strip()}"
        for path in sorted(SERVING.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\.api_[a-z]|\bstate(\.\w|\s*\[)|type:\s*ignore", line)
    ]
    assert not found, "\n".join(found)

"""Pure ingestion logic: recognise landing files by their columns and map them to canonical tables.

Nothing here imports Dagster; the assets in `crime_weather.orchestration.assets` wire these functions to storage.
"""

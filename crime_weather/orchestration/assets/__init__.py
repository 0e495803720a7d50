"""Dagster assets: thin wiring of the pure modules to storage, partitions and metadata."""

import warnings

import dagster as dg

# We rely on two beta APIs on purpose (backfill_policy for one-run ingests, pandera_schema_to_dagster_type
# for the schema tables in the UI); their warnings would repeat in every run's log.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

"""Dagster assets: thin wiring of the pure modules to storage, partitions and metadata."""

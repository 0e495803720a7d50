"""Pure modeling: the feature pipeline, the temporal split, the search, metrics and the registry.

No Dagster here: `serving/` imports this package to load and call the same pipeline it was trained with.
"""

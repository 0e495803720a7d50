"""Pure modeling, in sub-packages that import only downward: features -> estimation -> reporting ->
registry -> selection -> effects -> forecasting.

No Dagster here: `serving/` imports this package to load and call the same pipeline it was trained with.
"""

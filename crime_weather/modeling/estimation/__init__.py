"""The model itself: configurations, the offset estimators, the one pipeline, intervals and scores."""

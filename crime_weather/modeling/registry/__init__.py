"""MLflow as the platform uses it: runs through an explicit client, versions, aliases, safe loading."""

"""Pictures and documents for people: plots for MLflow and Dagster metadata."""

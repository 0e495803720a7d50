"""What the weather does to robberies: the rate-ratio GLM (estimate.py and the modules it names) and its MLflow artifacts."""

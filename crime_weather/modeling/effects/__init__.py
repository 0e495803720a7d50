"""What the weather does to robberies: the rate-ratio GLM and its MLflow artifacts."""

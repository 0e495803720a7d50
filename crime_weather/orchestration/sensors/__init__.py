"""Sensors, one module per concern: the landing zone drives ingestion (landing.py), the retrain chain's
automation conditions are evaluated by retrain.py, a promotion issues a forecast (forecast.py)."""

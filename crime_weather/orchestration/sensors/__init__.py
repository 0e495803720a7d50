"""Sensors: the landing zone drives ingestion (landing.py); new features drive retraining (retrain.py)."""

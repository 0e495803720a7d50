"""Sensors: the landing zone drives ingestion; automation conditions drive retraining."""

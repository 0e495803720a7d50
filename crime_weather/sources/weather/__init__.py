"""Weather files: each source's layout and units mapped to canonical daily values, and the sources combined per day."""

"""crime_weather: daily robberies per comuna of Buenos Aires, predicted from the weather.

The package root imports nothing heavy: `serving/` imports the pure modules (names, settings,
modeling) without pulling in Dagster.
"""

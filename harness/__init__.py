"""What the tests and the benchmarks share: real servers on loopback, models registered as the
platform registers them, the shared data loaded in process.

Not part of the product (no image ships it): `crime_weather_tests/` and `benchmarks/` import it,
neither imports the other.
"""

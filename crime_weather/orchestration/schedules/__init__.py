"""Schedules, one module per concern: acquisition (new source files daily), forecast (every morning)."""

"""The command line `crime-weather`: the platform's top layer, for people and for scripts (`--json`)."""

"""The API's routes, one controller per concern; each handler receives what it needs as a Litestar
dependency (serving/runtime.py), never by reaching into the app's state."""

"""GET /: the page people look at, rendered on the server (serving/controllers/page.py serves it)."""

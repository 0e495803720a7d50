"""Crime files: the official "delitos" layouts, the normalisation of their fields, and the parser to canonical events."""

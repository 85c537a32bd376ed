"""Use cases: typed keyword arguments in, data out. Services never print or exit."""

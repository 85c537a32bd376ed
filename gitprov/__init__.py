"""gitprov: Git-native provenance and artifact versioning for machine-learning teams.

Kept import-free on purpose: every git hook imports this package, and the hook path
must stay within tens of milliseconds.
"""

__version__ = "0.1.0"

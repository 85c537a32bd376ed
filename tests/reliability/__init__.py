"""The reliability and security suite (issue 9): faults injected, losses counted."""

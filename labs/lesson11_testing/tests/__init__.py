"""The lending app's own tests: run them with ``check("11.1")`` (or pytest) and they must pass."""

"""The tracker's own tests: run them with pytest from the course's root."""

"""Models of advisories."""

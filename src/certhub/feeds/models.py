"""Models of feeds."""

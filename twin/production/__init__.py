"""Production: lots, sources, stations."""

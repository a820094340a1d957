"""openued experiments package."""

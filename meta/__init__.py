"""openued meta package."""

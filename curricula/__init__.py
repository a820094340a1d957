"""openued curricula package."""

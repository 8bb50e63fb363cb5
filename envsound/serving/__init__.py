"""envsound serving package."""

"""envsound components package."""

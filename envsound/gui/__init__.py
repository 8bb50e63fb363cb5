"""envsound gui package."""

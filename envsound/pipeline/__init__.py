"""envsound pipeline package."""

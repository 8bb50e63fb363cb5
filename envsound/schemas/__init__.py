"""envsound schemas package."""

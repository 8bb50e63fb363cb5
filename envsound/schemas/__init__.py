"""Data files: the curated TFX schema, the environment taxonomy and AudioSet's class list."""

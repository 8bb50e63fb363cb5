"""TFX components and trainer modules: ingestion, Transform, the approaches' Trainers, the pusher."""

"""envsound: recognise environments from AudioSet VGGish embeddings (layers: docs/architecture.md)."""

"""VGGish: raw audio in, AudioSet-compatible embeddings out (front end, network, PCA)."""

"""The TFX pipeline: its wiring, settings, local/Dataflow/Vertex runners and command line."""

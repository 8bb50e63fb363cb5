"""TF Serving-compatible model server (`envsound serve`) and the client library."""

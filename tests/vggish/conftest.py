"""VGGish fixtures: see tests/support/vggish.py (shared through tests/conftest.py)."""

"""Settings shared by every envsound test."""

import os
import sys
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

# `from tests.support import ...` (shared helpers) under --import-mode=importlib, which
# does not put the repository root on sys.path by itself.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
  sys.path.insert(0, _ROOT)

# VGGish and audio-server fixtures, shared by tests/vggish, tests/serving and tests/gui.
from tests.support.vggish import (audio_server, audio_serving_dir, checkpoint_path,  # pylint: disable=unused-import,wrong-import-position
                                  model_dir, pca, pca_path, signatures, vggish_dir, weights)

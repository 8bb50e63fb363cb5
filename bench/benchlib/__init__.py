"""What envsound's bench scripts share: models, requests, timing, servers and displays.

Importing it puts the repository on ``sys.path`` (for ``tests.support``: the server launcher
and the tiny model), sets TensorFlow's defaults, and imports ``tests`` before TensorFlow,
which puts IPython's extensions folder, holding another ``tests`` package, on ``sys.path``.
A runner under bench/ imports it first: ``import benchlib``.
"""

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_WORK = Path(tempfile.gettempdir()) / 'envsound-bench'
DEFAULT_BATCHING = REPO / 'envsound' / 'serving' / 'config' / 'batching_parameters.pbtxt'

if str(REPO) not in sys.path:
  sys.path.insert(0, str(REPO))
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

import tests.support  # pylint: disable=wrong-import-position,unused-import

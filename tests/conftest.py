"""Settings and fixtures shared by every envsound test."""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

# `from tests.support import ...` (shared helpers) under --import-mode=importlib, which
# does not put the repository root on sys.path by itself.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
  sys.path.insert(0, _ROOT)

from tests.support import display  # pylint: disable=wrong-import-position

# VGGish and audio-server fixtures, shared by tests/vggish, tests/serving and tests/gui.
from tests.support.vggish import (audio_server, audio_serving_dir, checkpoint_path,  # pylint: disable=unused-import,wrong-import-position
                                  model_dir, pca, pca_path, signatures, vggish_dir, weights)


@pytest.fixture(scope='session')
def xvfb_display():
  """One Xvfb for the whole session, DISPLAY pointing at it, for every in-process Tk window.

  Tk keeps its X connection after a window closes: a display stopped before the session
  ends kills the process (X's fatal IO error) at the next window.
  """
  with display.for_tests() as name, pytest.MonkeyPatch.context() as patch:
    patch.setenv('DISPLAY', name)
    yield name


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
  """Groups tests for pytest-xdist's ``--dist loadgroup`` (``make test`` runs two workers).

  Each file is one group, so its module fixtures are built once; every test that reads the
  session's ``envsound demo`` run joins one group, collected first since it is the longest.
  """
  for item in items:
    reads_demo = 'demo' in item.fixturenames
    item.add_marker(pytest.mark.xdist_group('demo' if reads_demo else item.nodeid.split('::')[0]))
  items.sort(key=lambda item: 'demo' not in item.fixturenames)

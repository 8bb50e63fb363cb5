"""Settings and fixtures shared by every envsound test."""

import os
import signal
import sys
from pathlib import Path

import pytest

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

# A shell without job control starts background commands (`make test &`, nohup ... &) with
# SIGINT ignored, and the servers and demos the tests start would inherit that: the tests
# that stop them with Ctrl-C, as a user does at a terminal, need SIGINT's default.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
  signal.signal(signal.SIGINT, signal.default_int_handler)

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


# Session fixtures that start a process or train a model: the files that use one share a
# pytest-xdist group, so each is built on one worker only. Most expensive first.
COSTLY_FIXTURES = ('demo', 'audio_server', 'server', 'trained_cnn1d')


def _costly(item) -> list:
  """(rank, fixture) of the costly session fixtures the test uses, the fixture named by
  where it is defined (tests/gui and tests/serving each have their own ``server``)."""
  found = []
  for rank, name in enumerate(COSTLY_FIXTURES):
    definitions = item._fixtureinfo.name2fixturedefs.get(name)  # pylint: disable=protected-access
    if name in item.fixturenames and definitions:
      found.append((rank, f'{name} from {definitions[-1].baseid or "tests"}'))
  return found


def _file(item) -> str:
  return item.nodeid.split('::')[0]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
  """Groups tests for pytest-xdist's ``--dist loadgroup`` (``make test`` runs two workers).

  A file is one unit, so its module fixtures are built once; files that use the same costly
  session fixture form one group, and those groups are collected first (the worker that
  takes the session's ``envsound demo`` starts on it at once).
  """
  by_file = {}
  for item in items:
    by_file.setdefault(_file(item), []).extend(_costly(item))
  group = {path: min(found) if found else (len(COSTLY_FIXTURES), path)
           for path, found in by_file.items()}
  for item in items:
    item.add_marker(pytest.mark.xdist_group(group[_file(item)][1]))
  items.sort(key=lambda item: group[_file(item)][0])

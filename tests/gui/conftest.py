"""Fixtures for the desktop-client tests: tiny served models, clips (the display: tests/conftest.py).

The Tk tests need Xvfb. Outside CI a missing Xvfb skips them; in CI (CI=true) it fails
them, so a broken CI image cannot pass by skipping.
"""

import contextlib
import csv
import os
from pathlib import Path

import numpy as np
import pytest


ENVIRONMENTS = ('urban traffic', 'rail', 'nature', 'speech')
REFERENCE_PER_CLASS = 30
NEW_CLIPS = 24


@pytest.fixture(autouse=True)
def _own_settings(tmp_path, monkeypatch):
  """Every test remembers settings in its own folder, never in the user's."""
  monkeypatch.setenv('XDG_CONFIG_HOME', str(tmp_path / 'config'))
  monkeypatch.delenv('ENVSOUND_REFERENCE', raising=False)


def _clip(rng, centre, frames=10, dtype=np.uint8):
  values = np.clip(centre + rng.normal(0, 12, (frames, 128)), 0, 255)
  return values.astype(np.uint8) if dtype == np.uint8 else (values * (4 / 255) - 2)


@pytest.fixture(scope='session')
def clip_data(tmp_path_factory):
  """A reference set (manifest.csv + .npy per environment), new clips and bad files."""
  root = tmp_path_factory.mktemp('gui_data')
  rng = np.random.default_rng(0)
  centres = rng.integers(30, 225, size=(len(ENVIRONMENTS), 128)).astype(np.float64)
  ref = root / 'export' / 'eval'
  ref.mkdir(parents=True)
  with open(ref / 'manifest.csv', 'w', newline='') as f:
    out = csv.writer(f)
    out.writerow(['file', 'video_id', 'start_time_seconds', 'end_time_seconds', 'label_mids',
                  'label_names', 'environment'])
    for i in range(REFERENCE_PER_CLASS * len(ENVIRONMENTS)):
      k = i % len(ENVIRONMENTS)
      np.save(ref / f'ref{i:03d}.npy', _clip(rng, centres[k]))
      out.writerow([f'ref{i:03d}.npy', f'vid{i:03d}', 0.0, 10.0, '', '', ENVIRONMENTS[k]])
  new = root / 'new'
  new.mkdir()
  for i in range(NEW_CLIPS):  # uint8 and float, full and short clips
    dtype = np.uint8 if i % 3 else np.float32
    np.save(new / f'clip{i:02d}.npy',
            _clip(rng, centres[i % len(ENVIRONMENTS)], 10 if i % 4 else 6, dtype))
  bad = root / 'bad'
  bad.mkdir()
  np.save(bad / 'pickled.npy', np.array([{'x': 1}], dtype=object), allow_pickle=True)
  np.save(bad / 'wrong_shape.npy', np.zeros((10, 64), np.uint8))
  np.save(bad / 'wrong_dtype.npy', np.zeros((10, 128), np.int64))
  np.save(bad / 'empty.npy', np.zeros((0, 128), np.uint8))
  (bad / 'not_numpy.npy').write_text('these are not the bytes you are looking for')
  return {'reference': root / 'export', 'new': new, 'bad': bad, 'root': root}


@pytest.fixture(scope='session')
def served_models(tmp_path_factory):
  """Two tiny trained models (different seeds) and a models.config serving both."""
  from tests.support.tiny_model import export_tiny_model  # pylint: disable=import-outside-toplevel
  root = tmp_path_factory.mktemp('gui_models')
  names = ('tiny_a', 'tiny_b')
  for seed, name in enumerate(names):
    export_tiny_model(root / name, 1, ENVIRONMENTS, seed=seed)
  config = root / 'models.config'
  config.write_text('model_config_list {\n' + ''.join(
      f'  config {{ name: "{n}" base_path: "{root / n}" model_platform: "tensorflow" }}\n'
      for n in names) + '}\n')
  return {'config': config, 'names': names}


@pytest.fixture(scope='session')
def server(served_models):
  """``envsound serve`` on an unused port, serving both tiny models (tests only read it)."""
  from tests.support.server import local_server  # pylint: disable=import-outside-toplevel
  with local_server(model_config_file=served_models['config'], rest=False,
                    probe_model='tiny_a') as running:
    yield running


@pytest.fixture
def artifacts(tmp_path):
  """Where screenshots go: $ENVSOUND_TEST_ARTIFACTS (kept by CI) or the test's tmp dir."""
  folder = Path(os.environ.get('ENVSOUND_TEST_ARTIFACTS') or tmp_path) / 'gui'
  folder.mkdir(parents=True, exist_ok=True)
  return folder


@contextlib.contextmanager
def _windows():
  """Builds windows at the screen's top left corner; closes them when the block ends."""
  from envsound.gui import app as gui_app  # pylint: disable=import-outside-toplevel
  made = []

  def make(**kwargs):
    root = gui_app.make_root()
    root.geometry('1360x860+0+0')
    window = gui_app.App(root, **kwargs)
    made.append(window)
    return window

  yield make
  for window in made:
    try:
      window.close()
    except Exception:  # pylint: disable=broad-except  (already closed)
      pass


@pytest.fixture
def make_app(xvfb_display):
  """Builds windows for one test (closed at its end)."""
  with _windows() as make:
    yield make


@pytest.fixture(scope='module')
def make_shared_app(xvfb_display, tmp_path_factory):
  """Builds windows shared by a module's tests (closed after its last test), with settings
  kept in a folder of their own until each test's own (``_own_settings``) takes over."""
  with pytest.MonkeyPatch.context() as patch, _windows() as make:
    patch.setenv('XDG_CONFIG_HOME', str(tmp_path_factory.mktemp('shared_config')))
    patch.delenv('ENVSOUND_REFERENCE', raising=False)
    yield make


def screenshot(display, path):
  from PIL import ImageGrab  # pylint: disable=import-outside-toplevel
  ImageGrab.grab(xdisplay=display).save(path)
  print(f'screenshot: {path}')

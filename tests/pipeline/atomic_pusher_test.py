"""The Pusher never leaves a half-written version where TF Serving looks."""

import pathlib

import pytest
from tfx.components.pusher import executor as tfx_pusher

from envsound.components import atomic_pusher
from tests.support import pusher


def _push(tmp_path: pathlib.Path, base: pathlib.Path, weights: bytes = b'index'):
  model_dir = tmp_path / 'model'
  serving = model_dir / 'Format-Serving'
  (serving / 'variables').mkdir(parents=True, exist_ok=True)
  (serving / 'variables' / 'variables.index').write_bytes(weights)
  (serving / 'saved_model.pb').write_bytes(b'graph')
  return pusher.push(model_dir, base, tmp_path)


def _versions(base: pathlib.Path):
  return [p for p in base.iterdir() if p.name.isdigit()] if base.exists() else []


def test_push_lands_whole_in_the_base_path(tmp_path):
  base = tmp_path / 'serving' / 'cnn1d_balanced'
  pushed = _push(tmp_path, base)
  [version] = _versions(base)
  assert (version / 'saved_model.pb').read_bytes() == b'graph'
  assert (version / 'variables' / 'variables.index').exists()
  assert pushed.get_string_custom_property('pushed_destination') == str(version)
  assert not (base / atomic_pusher.STAGING).exists()


def test_interrupted_push_leaves_no_version_and_the_next_push_succeeds(tmp_path, monkeypatch):
  base = tmp_path / 'serving' / 'cnn1d_balanced'

  def interrupted(*args, **kwargs):
    raise KeyboardInterrupt('killed while copying saved_model.pb')
  with monkeypatch.context() as patch:
    patch.setattr(tfx_pusher.io_utils, 'copy_file', interrupted)
    with pytest.raises(KeyboardInterrupt):
      _push(tmp_path, base)
  assert not _versions(base)  # TF Serving sees nothing to load
  _push(tmp_path, base)
  assert len(_versions(base)) == 1
  assert not (base / atomic_pusher.STAGING).exists()


def test_the_same_model_is_not_pushed_twice(tmp_path, monkeypatch):
  base = tmp_path / 'serving' / 'cnn1d_balanced'
  first = _push(tmp_path, base)
  # Pusher names versions by the clock: make the second push's name differ.
  monkeypatch.setattr(tfx_pusher.time, 'time', lambda: 4102444800.0)
  again = _push(tmp_path, base)
  [version] = _versions(base)
  assert again.get_string_custom_property('pushed_destination') == str(version)
  assert again.get_string_custom_property('pushed_version') == \
      first.get_string_custom_property('pushed_version')
  assert not (base / atomic_pusher.STAGING).exists()
  _push(tmp_path, base, weights=b'retrained')  # new weights: a new version
  assert len(_versions(base)) == 2

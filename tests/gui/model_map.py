"""Checks that the window shows a served model's own map: the reference points its
``reference_map`` signature returns, and each clip at the model's ``map_xy`` output.

Shared by tests/gui/model_map_test.py (tiny models) and the pipeline's end-to-end test
(the models the pipeline exported and pushed).
"""

import contextlib
from typing import Iterator, Optional, Sequence

import numpy as np
import pytest

from envsound.gui import figures, maps
from tests.gui.xinput import pump

TIMEOUT_S = 180


def prepare(monkeypatch, folder, clips) -> list:
  """Saves ``clips`` as ``.npy`` files in ``folder`` and keeps the window's settings there
  (not in the user's); returns the paths."""
  monkeypatch.setenv('XDG_CONFIG_HOME', str(folder / 'config'))
  monkeypatch.delenv('ENVSOUND_REFERENCE', raising=False)
  paths = []
  for i, clip in enumerate(clips):
    paths.append(folder / f'clip{i}.npy')
    np.save(paths[-1], clip)
  return paths


@contextlib.contextmanager
def window(target: str, model: str) -> Iterator[object]:
  """The real window connected to ``target`` with ``model`` selected (closed afterwards)."""
  from envsound.gui import app as gui_app  # pylint: disable=import-outside-toplevel
  root = gui_app.make_root()
  root.geometry('1360x860+0+0')
  app = gui_app.App(root, server=target, model=model, models=[model])
  try:
    yield app
  finally:
    app.close()


def check(app, target: str, model: str, clips: Sequence, separation: Optional[dict] = None
          ) -> None:
  """Asserts ``app`` draws ``model``'s own map and places ``clips`` (``.npy`` paths) on it.

  Args:
    app: a window connected to ``target`` with ``model`` selected and no reference folder.
    target: the server's host:port.
    model: the served model's name.
    clips: clips to load and predict.
    separation: the model's ``separation.json`` record, when known: the window's figures
      must be those.
  """
  from envsound.serving.client import Client  # pylint: disable=import-outside-toplevel
  with Client(target) as client:
    expected_ref = client.reference_map(model)
    expected = client.predict(model, [np.load(p) for p in clips])
  count = len(expected_ref.xy)
  assert count > 0
  # Before any Predict: the model's reference points, where the model put them.
  pump(app, lambda: app.map_view.counts() == [(count, 0)], TIMEOUT_S)
  fitted = app.ws.maps[0]
  assert fitted.source == maps.FROM_MODEL and fitted.projection is None  # nothing fitted here
  drawn = app.map_view._reference[0].get_offsets()  # pylint: disable=protected-access
  np.testing.assert_allclose(drawn, expected_ref.xy, atol=1e-6)
  assert fitted.environments == [str(e) for e in expected_ref.environments]
  assert 'own map' in app.reference_var.get()

  app.load_files(list(clips))
  app.predict_button.invoke()
  pump(app, lambda: not app.busy, TIMEOUT_S)
  assert not app.banner_var.get(), app.banner_var.get()
  assert app.map_view.counts() == [(count, len(clips))]
  results, shown, _ = app.ws.outcome[0]
  assert shown is fitted and fitted.projection is None  # the same map, still not fitted here
  stars = app.map_view._new[0].get_offsets()  # pylint: disable=protected-access
  np.testing.assert_allclose(stars, expected.map_xy, atol=1e-5)
  assert list(results.top_class) == list(expected.top_class)

  # The separation figures, measured on the reference points the server gave.
  pump(app, lambda: fitted.separation is not None or not figures.measurable(fitted), TIMEOUT_S)
  if not figures.measurable(fitted):
    return
  title = app.map_view.axes[0].get_title().split('\n')
  assert title[2:] == figures.lines(fitted.separation)
  if separation is None:
    return
  for space, _ in figures.SPACES:
    got, want = fitted.separation[space], separation[space]
    assert got.n == want['n'] == count
    assert got.clusters == want['clusters'], space
    for key in ('knn_agreement', 'chance', 'silhouette'):
      assert getattr(got, key) == pytest.approx(want[key], abs=1e-6), (space, key)

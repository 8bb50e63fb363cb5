"""The window driven by real X input (xdotool): clicks, drags, keys, the real file dialog."""

import csv

from matplotlib.path import Path as ShapePath
import numpy as np
import pytest

from envsound.gui import neighbours as nn
from envsound.gui.table import PENDING
from tests.gui import xinput
from tests.gui.conftest import screenshot
from tests.gui.xinput import pump, settle

pytestmark = [pytest.mark.gui, pytest.mark.integration]


@pytest.fixture
def predicted(make_app, server, clip_data):
  """A window that has connected, loaded the clips and predicted them (Predict clicked)."""
  from envsound.serving.client import Client  # pylint: disable=import-outside-toplevel
  from envsound.gui import reference  # pylint: disable=import-outside-toplevel
  app = make_app(server=server.grpc_target, models=['tiny_a'],
                 reference=clip_data['reference'])
  pump(app, lambda: app.map_view.counts() == [(120, 0)])
  new = sorted(clip_data['new'].glob('*.npy'))
  app.load_files(new)
  assert {r['environment'] for r in app.table.rows()} == {PENDING}
  settle(app)
  xinput.click(app.predict_button)
  pump(app, lambda: app.map_view.counts() == [(120, len(new))] and not app.busy)
  settle(app)
  ref = reference.load_reference(clip_data['reference'])
  with Client(server.grpc_target) as client:
    expected = client.predict('tiny_a', [np.load(p) for p in new])
    expected_ref = client.predict('tiny_a', ref.clips)
  return app, new, expected, expected_ref, ref


def _screen(app, kind, index):
  widget = app.map_view.canvas.get_tk_widget()
  x, y = app.map_view.screen(0, nn.Point(kind, index))
  return widget.winfo_rootx() + x, widget.winfo_rooty() + y


def test_clicking_predict_fills_the_table(predicted):
  app, new, expected, _, _ = predicted
  assert [(r['file'], r['environment']) for r in app.table.rows()] == [
      (p.name, expected.top_class[i]) for i, p in enumerate(new)]


def test_clicking_a_point_lists_its_nearest_neighbours(predicted, xvfb_display, artifacts):
  app, new, expected, expected_ref, ref = predicted
  # The star farthest from other stars; the dot farthest from any star (a star under the
  # pointer wins a click, as it is drawn on top), so each click is unambiguous.
  stars = np.array([_screen(app, nn.CLIP, i) for i in range(len(new))], np.float64)
  dots = np.array([_screen(app, nn.REFERENCE, i) for i in range(len(ref))], np.float64)
  star_gap = np.linalg.norm(stars[:, None] - stars[None], axis=2) + np.eye(len(stars)) * 1e9
  dot_gap = np.linalg.norm(dots[:, None] - dots[None], axis=2) + np.eye(len(dots)) * 1e9
  dot_to_star = np.linalg.norm(dots[:, None] - stars[None], axis=2).min(axis=1)
  star = int(np.argmax(star_gap.min(axis=1)))
  dot = int(np.argmax(np.where(dot_gap.min(axis=1) > 2, dot_to_star, -1)))
  assert star_gap[star].min() > 2 and dot_to_star[dot] > 20
  picks = [(nn.CLIP, star), (nn.REFERENCE, dot)]
  for kind, index in picks:
    settle(app)
    app.neighbour_list.clear()
    xinput.click_at(*_screen(app, kind, index))
    pump(app, lambda: app.neighbour_list.rows())
    every = np.concatenate([expected_ref.embedding, expected.embedding])
    own = index + (len(ref) if kind == nn.CLIP else 0)
    distance = np.linalg.norm(every - every[own], axis=1)
    distance[own] = np.inf
    order = np.argsort(distance, kind='stable')[:nn.K]
    names = ref.files + [p.name for p in new]
    assert [(r[0], float(r[3])) for r in app.neighbour_list.rows()] == [
        (names[i], pytest.approx(distance[i], abs=1e-3)) for i in order], (
            kind, index, app.neighbour_var.get())
    picked_name = new[index].name if kind == nn.CLIP else ref.files[index]
    assert picked_name in app.neighbour_var.get()
    # The neighbours are marked on the map, the clicked point ringed.
    marks = app.map_view._marks  # pylint: disable=protected-access
    near = marks[-2].get_offsets()
    assert len(near) == nn.K
    np.testing.assert_allclose(marks[-1].get_offsets()[0],
                               app.map_view.offset(0, nn.Point(kind, index)))
    assert app.table.selected() == [picks[0][1]]
  screenshot(xvfb_display, artifacts / 'gui_neighbours.png')


def test_typing_in_the_filter_shows_matching_rows(predicted):
  app, new, expected, _, _ = predicted
  xinput.click(app.filter_entry)
  wanted = expected.top_class[0]
  xinput.type_text(wanted)
  pump(app, lambda: app.filter_var.get() == wanted)
  settle(app)
  shown = [r['file'] for r in app.table.rows()]
  assert shown == [p.name for i, p in enumerate(new) if expected.top_class[i] == wanted]
  assert 0 < len(shown) < len(new)
  xinput.key('ctrl+slash', 'BackSpace')
  xinput.type_text('clip1')
  pump(app, lambda: app.filter_var.get() == 'clip1')
  assert [r['file'] for r in app.table.rows()] == [p.name for p in new if 'clip1' in p.name]


def _drag_on_canvas(canvas, points):
  """A left-button drag through matplotlib's own event path (display pixels, y up)."""
  from matplotlib.backend_bases import MouseButton, MouseEvent  # pylint: disable=import-outside-toplevel
  (x, y), rest = points[0], points[1:]
  MouseEvent('button_press_event', canvas, x, y, button=MouseButton.LEFT)._process()
  for x, y in rest:
    MouseEvent('motion_notify_event', canvas, x, y, button=MouseButton.LEFT)._process()
  MouseEvent('button_release_event', canvas, x, y, button=MouseButton.LEFT)._process()

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


@pytest.fixture(scope='module')
def predicted_once(make_shared_app, server, clip_data):
  """A window that has connected, loaded the clips and predicted them (Predict clicked),
  shared by this module's tests."""
  from envsound.serving.client import Client  # pylint: disable=import-outside-toplevel
  from envsound.gui import reference  # pylint: disable=import-outside-toplevel
  app = make_shared_app(server=server.grpc_target, models=['tiny_a'],
                        reference=clip_data['reference'])
  pump(app, lambda: app.map_view.counts() == [(120, 0)])
  new = sorted(clip_data['new'].glob('*.npy'))
  app.load_files(new)
  assert {r['environment'] for r in app.table.rows()} == {PENDING}
  settle(app)
  xinput.click(app.predict_button)
  pump(app, lambda: app.map_view.counts() == [(120, len(new))] and not app.busy
       and all(m.separation for m in app.ws.maps))  # the figures measured after the draw
  settle(app)
  ref = reference.load_reference(clip_data['reference'])
  with Client(server.grpc_target) as client:
    expected = client.predict('tiny_a', [np.load(p) for p in new])
    expected_ref = client.predict('tiny_a', ref.clips)
  return app, new, expected, expected_ref, ref


@pytest.fixture
def predicted(predicted_once):
  """The shared window as each test starts it: the predictions on show, no filter, no
  selection, no neighbours listed, the Click tool."""
  app, new = predicted_once[:2]
  pump(app, lambda: not app.busy)
  app.filter_var.set('')
  app.tool_var.set('click')
  app.tool_changed()
  app.rows_selected([])
  app.table.select([])
  app.neighbour_list.clear()
  if [r['environment'] for r in app.table.rows()].count(PENDING):  # a test cut short
    app.predict()
    pump(app, lambda: not app.busy)
  settle(app)
  assert app.map_view.counts() == [(120, len(new))] and not app.table.selected()
  return predicted_once


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


def _to_screen(view, display_xy):
  """Screen pixels of matplotlib display coordinates (y up) on ``view``'s canvas."""
  widget = view.canvas.get_tk_widget()
  x, y = display_xy
  return (widget.winfo_rootx() + int(round(x)),
          widget.winfo_rooty() + int(round(widget.winfo_height() - y)))


def test_a_box_and_a_lasso_dragged_on_the_map_select_rows(predicted, tmp_path):
  app, new, _, _, _ = predicted
  view = app.map_view
  ax = view.axes[0]
  stars = ax.transData.transform(view._new[0].get_offsets())  # pylint: disable=protected-access
  box = ax.bbox
  lo, hi = (box.x0 + 4, box.y0 + 4), (box.x1 - 4, box.y1 - 4)
  # A box 120 px square around the first star, kept inside the axes (where a drag counts).
  (x0, y0), (x1, y1) = np.clip(stars[0] - 60, lo, hi), np.clip(stars[0] + 60, lo, hi)
  inside = [i for i, (x, y) in enumerate(stars) if x0 < x < x1 and y0 < y < y1]
  assert 0 < len(inside) < len(new)
  xinput.click(app.tool_buttons['box'])
  pump(app, lambda: view.selectors.tool == 'box', 20)
  corners = [(x0, y0), ((x0 + x1) / 2, (y0 + y1) / 2), (x1, y1)]
  xinput.drag(app, [_to_screen(view, p) for p in corners])
  pump(app, lambda: app.table.selected(), 20)
  assert app.table.selected() == inside == app.ws.selection

  # A lasso: an octagon around the last star.
  shape = [np.clip(stars[-1] + 70 * np.array([np.cos(a), np.sin(a)]), lo, hi)
           for a in np.linspace(0, 2 * np.pi, 17)]
  inside = [int(i) for i in np.flatnonzero(ShapePath(shape).contains_points(stars))]
  assert 0 < len(inside) < len(new)
  xinput.click(app.tool_buttons['lasso'])
  pump(app, lambda: view.selectors.tool == 'lasso', 20)
  xinput.drag(app, [_to_screen(view, p) for p in shape])
  pump(app, lambda: app.table.selected() == inside, 20)
  assert app.ws.selection == inside

  # Ctrl+Shift+E exports the selection through the real file dialog.
  out = tmp_path / 'selection.csv'
  answer = xinput.answer_dialog('Export predictions (CSV)', str(out))
  with xinput.dialog_deadline(app):
    xinput.key('ctrl+shift+e')  # the keyboard focus is on the Lasso button, in the window
    pump(app, lambda: out.exists() or answer.poll() is not None, xinput.TIMEOUT_S)
  assert answer.wait(timeout=xinput.TIMEOUT_S) == 0
  with open(out, newline='') as f:
    assert [r['file'] for r in csv.DictReader(f)] == [new[i].name for i in inside]


def test_f5_predicts_again(predicted):
  app, _, expected, _, _ = predicted
  app.table.clear_results()
  assert {r['environment'] for r in app.table.rows()} == {PENDING}
  xinput.click_at(*xinput.centre(app.table))
  xinput.key('F5')
  pump(app, lambda: not app.busy and app.table.rows()[0]['environment'] != PENDING, 120)
  assert [r['environment'] for r in app.table.rows()] == expected.top_class


def test_ctrl_e_saves_the_table_through_the_real_file_dialog(predicted, tmp_path):
  app, new, _, _, _ = predicted
  out = tmp_path / 'chosen' / 'predictions.csv'
  out.parent.mkdir()
  answer = xinput.answer_dialog('Export predictions (CSV)', str(out))
  xinput.click_at(*xinput.centre(app.table))  # keyboard focus into the window
  with xinput.dialog_deadline(app):
    xinput.key('ctrl+e')
    pump(app, lambda: out.exists() or answer.poll() is not None, xinput.TIMEOUT_S)
  assert answer.wait(timeout=xinput.TIMEOUT_S) == 0
  with open(out, newline='') as f:
    rows = list(csv.DictReader(f))
  table = app.table.rows()
  assert len(table) == len(new)
  assert [(r['file'], r['environment'], f'{float(r["confidence"]):.3f}') for r in rows] == [
      (r['file'], r['environment'], r['confidence']) for r in table]
  assert str(out) in app.status_var.get()

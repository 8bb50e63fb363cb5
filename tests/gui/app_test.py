"""The real Tk window under Xvfb, against ``envsound serve`` serving two tiny trained models."""

import csv
import json
import os
import types

import numpy as np
import pytest

from envsound.gui import columns, figures, loader, panels, settings, table
from envsound.gui.table import PENDING
from tests.gui.conftest import screenshot
from tests.gui.xinput import pump, settle

pytestmark = [pytest.mark.gui, pytest.mark.integration]


def predict_and_wait(app):
  app.predict_button.invoke()
  assert app.busy
  pump(app, lambda: not app.busy)
  assert not app.banner_var.get(), app.banner_var.get()


def test_connect_load_predict_compare_export(make_app, server, clip_data, artifacts,
                                             xvfb_display, tmp_path):
  from envsound.serving.client import Client  # pylint: disable=import-outside-toplevel
  app = make_app(server=server.grpc_target, models=['tiny_a', 'tiny_b'],
                 reference=clip_data['reference'])
  pump(app, lambda: app.ws.choices)
  assert list(app.ws.choices) == ['tiny_a', 'tiny_a v1', 'tiny_b', 'tiny_b v1']
  assert app.model_var.get() == 'tiny_a'
  assert len(app.ws.reference) == 120
  # The selected model's map is drawn before any clip is loaded or predicted.
  pump(app, lambda: app.map_view.counts() == [(120, 0)])
  screenshot(xvfb_display, artifacts / 'gui_cold_start.png')

  new = sorted(clip_data['new'].glob('*.npy'))
  bad = sorted(clip_data['bad'].glob('*.npy'))
  app.load_files(new[:10] + bad)
  app.on_drop(types.SimpleNamespace(data=f'{{{clip_data["new"]}}}'))  # a dropped folder
  assert app.ws.names == [p.name for p in new]
  assert [r['file'] for r in app.table.rows()] == [p.name for p in new]
  assert {r['environment'] for r in app.table.rows()} == {PENDING}
  assert dict((os.path.basename(p), r.split(':')[0]) for p, r in app.skipped.rows()) == {
      'empty.npy': 'empty', 'not_numpy.npy': 'not a plain .npy array',
      'pickled.npy': 'not a plain .npy array', 'wrong_dtype.npy': 'dtype int64, expected uint8 or float',
      'wrong_shape.npy': 'shape (10, 64), expected [frames, 128]'}
  assert 'pickled' in dict(app.skipped.rows())[str(clip_data['bad'] / 'pickled.npy')]

  app.compare_var.set('tiny_b')
  predict_and_wait(app)

  with Client(server.grpc_target) as client:
    expected = {m: client.predict(m, [np.load(p) for p in new]) for m in ('tiny_a', 'tiny_b')}
  first = expected['tiny_a']
  assert len(set(first.top_class)) > 1  # the check below could not pass by chance
  assert [(r['file'], r['environment'], r['confidence']) for r in app.table.rows()] == [
      (p.name, first.top_class[i], f'{first.top_score[i]:.3f}') for i, p in enumerate(new)]
  short = {'urban traffic': 'traffic'}  # the other environments are one word
  for row, probs in zip(app.table.rows(), first.probabilities):
    top = np.argsort(-probs)[:3]
    assert row['top3'] == ' · '.join(
        f'{short.get(first.class_names[j], first.class_names[j])} {probs[j]:.2f}' for j in top)
  assert app.map_view.counts() == [(120, len(new))]
  assert app.compare_view.counts() == [(120, len(new))] * 2
  # Each map's separation figures are measured after drawing, then fill its title.
  pump(app, lambda: all(m.separation for m in app.ws.maps))
  for ax, name, (_, fitted, _) in zip(app.compare_view.axes, ('tiny_a', 'tiny_b'),
                                      app.ws.outcome):
    title = ax.get_title().split('\n')
    assert title[:2] == [f'{name} (version 1)', 'fitted here with UMAP · 120 reference clips']
    assert title[2:] == figures.lines(fitted.separation) and len(title) == 5
  assert app.map_view.axes[0].get_title() == app.compare_view.axes[0].get_title()

  app.table.sort_by('confidence')
  shown = [float(r['confidence']) for r in app.table.rows()]
  assert shown == sorted(shown, reverse=True) and len(shown) == len(new)

  # Selecting a row rings its star on both maps.
  app.table.tree.selection_set('7')
  app.root.update()
  for view in (app.map_view, app.compare_view):
    for k, ring in enumerate(view._marks):  # pylint: disable=protected-access
      np.testing.assert_allclose(ring.get_offsets()[0], view._new[k].get_offsets()[7])  # pylint: disable=protected-access

  app.right.select(app.compare_view)
  settle(app)
  screenshot(xvfb_display, artifacts / 'gui_compare.png')
  app.right.select(app.map_view)
  settle(app)
  screenshot(xvfb_display, artifacts / 'gui_predicted.png')

  app.export_csv(tmp_path / 'out.csv')
  with open(tmp_path / 'out.csv', newline='') as f:
    exported = list(csv.DictReader(f))
  assert [(r['model'], r['file'], r['environment']) for r in exported] == [
      (m, p.name, expected[m].top_class[i]) for m in ('tiny_a', 'tiny_b')
      for i, p in enumerate(new)]
  app.save_png(tmp_path / 'map.png')
  assert (tmp_path / 'map.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'

  remembered = json.loads(settings.config_path().read_text())
  assert remembered['server'] == server.grpc_target
  assert remembered['folder'] == str(clip_data['new'])
  assert remembered['model'] == 'tiny_a'


def _partition(keys):
  groups = {}
  for i, k in enumerate(keys):
    groups.setdefault(k, set()).add(i)
  return {frozenset(g) for g in groups.values()}


@pytest.fixture(scope='module')
def shared_window(make_shared_app, server, clip_data):
  return make_shared_app(server=server.grpc_target, models=['tiny_a'],
                         reference=clip_data['reference'])


@pytest.fixture
def map_ready(shared_window):
  """The shared window with tiny_a's map drawn, its figures measured, no clips, coloured by
  true environment."""
  app = shared_window
  pump(app, lambda: not app.busy)
  app.clear_clips()
  app.colour_var.set(panels.TRUE)
  app.colour_changed()
  pump(app, lambda: app.map_view.counts() == [(120, 0)]
       and all(m.separation for m in app.ws.maps))
  settle(app)
  return app


def test_colour_by_true_or_predicted_environment(map_ready):
  app = map_ready
  fitted = app.ws.maps[0]
  assert _partition(fitted.predicted) != _partition(fitted.environments)

  def colours():
    return [tuple(c) for c in app.map_view._reference[0].get_facecolors()]  # pylint: disable=protected-access

  assert _partition(colours()) == _partition(fitted.environments)
  app.colour_var.set('predicted environment')
  app.colour_changed()
  assert _partition(colours()) == _partition(fitted.predicted)


def test_the_points_stay_put_when_the_maps_figures_arrive(map_ready):
  app = map_ready
  view, fitted = app.map_view, app.ws.maps[0]
  dots = view._reference[0]  # pylint: disable=protected-access
  fitted.separation = None
  app.retitle()
  view.canvas.draw()
  assert 'measuring…' in view.axes[0].get_title()
  before = view.axes[0].transData.transform(dots.get_offsets())
  app.measure_maps()
  pump(app, lambda: fitted.separation is not None)
  view.canvas.draw()
  assert 'measuring…' not in view.axes[0].get_title()
  np.testing.assert_allclose(view.axes[0].transData.transform(dots.get_offsets()), before)


def test_more_than_500_files_are_refused(make_app, tmp_path):
  app = make_app(server='127.0.0.1:1', connect=False)
  paths = [tmp_path / f'{i}.npy' for i in range(loader.MAX_FILES + 1)]
  app.load_files(paths)
  assert 'Refused: 501 files offered' in app.banner_var.get()
  assert app.ws.clips == [] and app.table.rows() == []


def test_dead_server_and_a_server_going_away_get_a_banner_with_retry(
    make_app, server, clip_data):
  # pylint: disable=import-outside-toplevel
  from tests.support.relay import Relay
  from tests.support.server import pick_unused_port
  # Nothing listens: the window stays usable and offers Retry.
  dead = make_app(server=f'127.0.0.1:{pick_unused_port()}', models=['tiny_a'])
  pump(dead, lambda: dead.banner_var.get())
  assert dead.banner_var.get().startswith('Connecting to ')
  assert 'failed' in dead.banner_var.get() and 'unavailable' in dead.banner_var.get()
  assert dead.retry_button.winfo_ismapped()

  # A server that answers, then goes away before Predict (its port closes, its connections
  # drop; the real server behind the relay serves on for the other tests).
  with Relay(server.grpc_port) as relay:
    app = make_app(server=relay.target, models=['tiny_a'])
    pump(app, lambda: app.ws.maps)  # connected, the model's own map drawn
    app.load_files(sorted(clip_data['new'].glob('*.npy'))[:5])
    relay.cut()
    app.predict_button.invoke()
    pump(app, lambda: not app.busy and app.banner_var.get().startswith('Predicting failed'))
  assert 'unavailable' in app.banner_var.get()
  assert app.retry_button.winfo_ismapped()
  assert str(app.predict_button.cget('state')) == 'normal'  # not frozen: Predict works again
  assert [r['environment'] for r in app.table.rows()] == [PENDING] * 5  # nothing half-shown


def test_one_predict_draws_the_map_once(map_ready, clip_data):
  app = map_ready
  new = sorted(clip_data['new'].glob('*.npy'))
  app.load_files(new)
  settle(app)  # loading redraws the map with no results: not counted
  draws = {'map': [], 'compare': []}
  for name, view in (('map', app.map_view), ('compare', app.compare_view)):
    view.canvas.mpl_connect('draw_event', lambda _e, n=name, v=view: draws[n].append(
        v.counts()))
  predict_and_wait(app)
  settle(app)  # whatever Predict left queued for idle time is drawn now
  assert draws == {'map': [[(120, len(new))]], 'compare': []}


def test_the_table_shows_every_column_at_the_default_size(map_ready, clip_data, tmp_path):
  app = map_ready
  new = sorted(clip_data['new'].glob('*.npy'))
  long = tmp_path / 'recording_2024-06-01_platform_3_evening_rush_hour_northbound.npy'
  long.write_bytes(new[1].read_bytes())
  app.load_files(new + [long])
  predict_and_wait(app)
  settle(app)
  tree, font = app.table.tree, columns.tree_font(app.table.tree)
  assert tree.xview() == (0.0, 1.0)  # nothing to scroll to
  rows = tree.get_children()
  for key in table.FITTED:  # every environment, confidence and Top 3 whole
    width = tree.column(key, 'width')
    assert max(font.measure(tree.set(i, key)) for i in rows) < width, key
  assert len({tree.set(i, 'top3') for i in rows}) > 1
  shown = {app.table.name(i): tree.set(i, 'file') for i in rows}
  assert all(shown[p.name] == p.name for p in new)  # short names whole
  cut = shown[long.name]
  assert cut != long.name and columns.ELLIPSIS in cut and cut.endswith('.npy')
  assert font.measure(cut) < tree.column('file', 'width')
  assert app.table.rows()[-1]['file'] == long.name
  tree.selection_set(str(len(new)))  # the user selects its row: the full path shows
  settle(app)
  assert app.status_var.get() == str(long)

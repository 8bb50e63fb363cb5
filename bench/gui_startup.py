"""Desktop client: from `envsound gui` to the selected model's map drawn, then Predict of 500
clips to the updated map.

Serves approach 2's cnn1d (real architecture, Transform graph and signatures; untrained,
seeded weights) exported with its own map of a 1000-clip reference folder (benchlib/
map_model.py: UMAP and the parametric projection, as the Trainer fits them) with
``envsound serve`` on a free 127.0.0.1 port, and opens the real window
(``envsound.gui.app.App``, as ``envsound gui --server .. --model cnn1d_balanced`` does) on an
Xvfb display, each window in a fresh process (``--child``):

  * model map: the window shows the model's own map (``reference_map`` from the server,
    clips at ``map_xy``): nothing is fitted in the client. Goal: map drawn <= 3 s after the
    window opens; Predict of 500 clips to the updated map <= 1 s.
  * live fit (baseline): ``--reference`` the same folder, so the window sends the 1000
    clips through the model and fits UMAP on their penultimate vectors (the path every
    model took before it carried a map), with an empty numba cache and with the cache the
    first run left.

Per window: launch (process start) to window open, window open to the map drawn
(``App.timings['window']`` to ``['map_drawn']``), the separation figures in the title after
that (``['measured']``, computed in the background), whether UMAP was imported, and each
Predict's wall time (``predict_button.invoke()`` until the window is no longer busy) with
``App.timings``' stages (predict, map = place or transform, draw).

  .venv/bin/python bench/gui_startup.py [--runs 2] [--predicts 3]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchlib
from benchlib import gui_window, map_model

GOAL_MAP_S = 3.0
GOAL_PREDICT_S = 1.0
TIMEOUT_S = 600


def _pump(app, until, what: str) -> None:
  deadline = time.monotonic() + TIMEOUT_S
  while not until():
    if time.monotonic() > deadline:
      raise TimeoutError(f'{what}: not within {TIMEOUT_S} s; status '
                         f'{app.status_var.get()!r}, banner {app.banner_var.get()!r}')
    app.root.update()
    time.sleep(0.002)


def child(mode: str, target: str, ref: Path, clips: Path, launched: float,
          predicts: int) -> dict:
  """One window in this fresh process; times from ``launched`` (the parent's clock)."""
  wall0, perf0 = time.time(), time.perf_counter()

  def wall(t):
    return wall0 + (t - perf0)

  from envsound.gui import app as gui_app  # pylint: disable=import-outside-toplevel
  name = gui_window.MODEL_NAME
  window = gui_app.App(gui_app.make_root(), server=target, model=name, models=[name],
                       reference=ref if mode == 'live' else None)
  _pump(window, lambda: window.map_view.counts() == [(gui_window.NUM_REFERENCE, 0)], 'map')
  _pump(window, lambda: window.ws.maps[0].separation is not None, 'figures')
  t = dict(window.timings)
  out = {'launch_to_window_s': wall(t['window']) - launched,
         'window_to_map_s': t['map_drawn'] - t['window'],
         'figures_after_map_s': t['measured'] - t['map_drawn'],
         'umap_imported': 'umap' in sys.modules, 'source': window.ws.maps[0].source}
  window.load_files([clips])
  out['predicts'] = []
  for _ in range(predicts):
    started = time.perf_counter()
    window.predict_button.invoke()
    _pump(window, lambda: not window.busy, 'predict')
    if window.banner_var.get():
      raise RuntimeError(window.banner_var.get())
    assert window.map_view.counts() == [(gui_window.NUM_REFERENCE, gui_window.NUM_CLIPS)]
    out['predicts'].append(dict(window.timings, wall=time.perf_counter() - started))
  window.close()
  return out


def run_child(mode, target, ref, clips, predicts, env) -> dict:
  out_file = Path(tempfile.mktemp(suffix='.json'))
  launched = time.time()
  argv = [sys.executable, __file__, '--child', mode, target, str(ref), str(clips),
          str(out_file), str(launched), '--predicts', str(predicts)]
  proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
  if proc.returncode:
    raise SystemExit(f'window process failed ({proc.returncode}):\n{proc.stderr[-3000:]}')
  result = json.loads(out_file.read_text())
  out_file.unlink()
  return result


def print_report(runs: dict) -> None:
  import numpy as np  # pylint: disable=import-outside-toplevel
  print(f'{"window":52} {"launch->window":>14} {"window->map":>12} {"figures":>8}  umap')
  for name, r in runs.items():
    print(f'{name:52} {r["launch_to_window_s"]:12.2f} s {r["window_to_map_s"]:10.2f} s '
          f'{r["figures_after_map_s"]:+6.2f} s  {"imported" if r["umap_imported"] else "no"}')
  print(f'goal: window->map <= {GOAL_MAP_S:.0f} s with the model\'s own map; the live fit '
        'rows are the baseline measured in this run\n')
  for name, r in runs.items():
    walls = [p['wall'] for p in r['predicts']]
    stages = '; '.join(f'predict {p["predict0"]:.2f} + map {p["map0"]:.2f} + draw '
                       f'{p["draw"]:.2f}' for p in r['predicts'])
    print(f'{name}: Predict 500 clips -> updated map: median {np.median(walls):.2f} s '
          f'(' + ', '.join(f'{w:.2f}' for w in walls) + f'); {stages}')
  print(f'goal: Predict 500 clips -> updated map <= {GOAL_PREDICT_S:.0f} s')


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--work-dir', type=Path, default=benchlib.DEFAULT_WORK)
  parser.add_argument('--runs', type=int, default=2, help='model-map windows')
  parser.add_argument('--predicts', type=int, default=3, help='Predicts per window')
  parser.add_argument('--child', nargs=6, help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.child:
    mode, target, ref, clips, out, launched = args.child
    result = child(mode, target, Path(ref), Path(clips), float(launched), args.predicts)
    Path(out).write_text(json.dumps(result))
    return 0

  # pylint: disable=import-outside-toplevel
  from benchlib import models
  from tests.support.display import xvfb
  from tests.support.server import local_server
  root = args.work_dir / 'gui_startup'
  if not (root / '.data_done').exists():
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    gui_window.write_data(root, models.class_names())
    (root / '.data_done').touch()
  ref, clips = root / 'reference', root / 'clips'
  base = root / 'model_cnn1d_map'
  map_model.export_with_map(base, ref, args.work_dir)
  scratch = Path(tempfile.mkdtemp(prefix='gui-startup-', dir=args.work_dir))
  flags = ['--enable_batching', f'--batching_parameters_file={benchlib.DEFAULT_BATCHING}']
  print(f'load average at start: {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPU(s)', flush=True)
  with xvfb() as display, local_server(model_base_path=base, model_name=gui_window.MODEL_NAME,
                                       flags=flags, rest=False, timeout_s=300,
                                       log_dir=scratch) as server:
    env = dict(os.environ, DISPLAY=display, XDG_CONFIG_HOME=str(scratch / 'config'),
               NUMBA_CACHE_DIR=str(scratch / 'numba_cache'), PYTHONWARNINGS='ignore')
    env.pop('ENVSOUND_REFERENCE', None)
    runs = {}
    for i in range(args.runs):
      runs[f'model\'s own map, fresh process {i + 1}'] = run_child(
          'model', server.grpc_target, ref, clips, args.predicts, env)
    for cache in ('empty numba cache', 'numba cache from the first'):
      runs[f'live UMAP fit (baseline), {cache}'] = run_child(
          'live', server.grpc_target, ref, clips, args.predicts, env)
  print(f'load average at end: {os.getloadavg()[0]:.2f}\n')
  print_report(runs)
  shutil.rmtree(scratch, ignore_errors=True)
  return 0


if __name__ == '__main__':
  sys.exit(main())

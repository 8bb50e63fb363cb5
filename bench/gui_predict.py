"""Desktop client: time from pressing Predict on 500 clips to the finished scatter.

Runs the real window (``envsound.gui.app.App``, Tk + matplotlib's TkAgg canvas) under an
Xvfb display this script starts itself, against ``envsound serve`` (subprocess, free
127.0.0.1 port) serving a model under the name ``cnn1d_balanced`` (by default approach 2's
real cnn1d architecture, Transform graph and signatures; ``--model tiny`` for the tests'
tiny model). The reference set is 1000 synthetic clips (the GUI's MAX_REFERENCE) in 10
environments with a manifest.csv, as ``envsound data export`` writes; the user's clips are
500 ``.npy`` files (the GUI's limit), uint8 and float, loaded through the window's loader.

Each window runs in a fresh process (``--child``), so its first Predict is really cold:
  * cold: the first Predict in the process, nothing prepared (the window connects and then
    presses Predict, so no background pre-fit ran): the 1000 reference clips are predicted,
    UMAP is fitted (numba compiles its code), the 500 clips are predicted and placed with
    ``UMAP.transform``, and the scatter is drawn. Run once with an empty numba cache
    (``NUMBA_CACHE_DIR`` pointing at a new folder) and once with the cache it left.
  * warm: later Predicts in the same window (map cached, code compiled): predict 500 clips
    + transform + table + draw. Goal: <= 3 s on 2 cores.
  * server round trip alone: ``Client.predict`` of the same 500 clips in the GUI's batches
    of 100 (what ``session.predict`` sends), without the window.

The timings inside a Predict come from the window itself (``App.timings``: predict,
map = reference fit or transform, draw = table + panels + their one draw, ``draw_now``);
"wall" is from ``predict_button.invoke()`` until the window is no longer busy, pumping Tk's event loop
every 2 ms.

  .venv/bin/python bench/gui_predict.py [--model cnn1d|tiny] [--warm-runs 3]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import benchlib
from benchlib import gui_window, models


def run_child(target, ref, clips, warm_runs, env) -> dict:
  out_file = Path(tempfile.mktemp(suffix='.json'))
  argv = [sys.executable, __file__, '--child', target, str(ref), str(clips), str(out_file),
          '--warm-runs', str(warm_runs)]
  proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
  if proc.returncode:
    raise SystemExit(f'window process failed ({proc.returncode}):\n{proc.stderr[-3000:]}')
  result = json.loads(out_file.read_text())
  out_file.unlink()
  return result


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--model', choices=('cnn1d', 'tiny'), default='cnn1d')
  parser.add_argument('--work-dir', type=Path, default=benchlib.DEFAULT_WORK)
  parser.add_argument('--warm-runs', type=int, default=3)
  parser.add_argument('--child', nargs=4, metavar=('TARGET', 'REF', 'CLIPS', 'OUT'),
                      help=argparse.SUPPRESS)
  args = parser.parse_args(argv)
  if args.child:
    target, ref, clips, out = args.child
    result = gui_window.child(target, Path(ref), Path(clips), args.warm_runs)
    Path(out).write_text(json.dumps(result))
    return 0

  # pylint: disable=import-outside-toplevel
  from tests.support.display import xvfb
  from tests.support.server import local_server
  base = models.cached_base_path(args.model, args.work_dir)
  root = Path(tempfile.mkdtemp(prefix='gui-bench-', dir=args.work_dir))
  ref, clips = gui_window.write_data(root, models.class_names())
  serving = root / 'serving'
  name = gui_window.MODEL_NAME
  shutil.copytree(base, serving / name)
  flags = ['--enable_batching', f'--batching_parameters_file={benchlib.DEFAULT_BATCHING}']
  with xvfb() as display, local_server(model_base_path=serving / name, model_name=name,
                                       flags=flags, rest=False, timeout_s=300,
                                       log_dir=root) as server:
    print(f'model {args.model} served as {name}; {gui_window.NUM_REFERENCE} reference clips, '
          f'{gui_window.NUM_CLIPS} clips; Tk window on Xvfb {display}; {os.cpu_count()} '
          'CPU(s)', flush=True)
    env = dict(os.environ, DISPLAY=display, XDG_CONFIG_HOME=str(root / 'config'),
               NUMBA_CACHE_DIR=str(root / 'numba_cache'), PYTHONWARNINGS='ignore')
    env.pop('ENVSOUND_REFERENCE', None)
    runs = {}
    for cache in ('empty numba cache', 'numba cache from the first'):
      runs[f'fresh process, {cache}'] = run_child(server.grpc_target, ref, clips,
                                                  args.warm_runs, env)
  print()
  gui_window.print_report(runs)
  shutil.rmtree(root, ignore_errors=True)
  return 0


if __name__ == '__main__':
  sys.exit(main())

"""Takes docs/images' screenshots of the desktop client on models the pipeline exported.

Run ``envsound demo`` first (it trains, pushes and serves the three approaches' models),
then, on a display (Xvfb here)::

  envsound demo --workdir /tmp/demo --clips 3000 --epochs 4 --port 8500 --rest-port 8501 &
  xvfb-run -s '-screen 0 1400x900x24' .venv/bin/python scripts/gui_screenshots.py \\
      --server 127.0.0.1:8500 --clips /tmp/demo/npy/eval --out docs/images \\
      --model cnn1d_150k --compare cnn2d_balanced

Where the quality gate pushed fewer than two models, serve the Trainers' exports instead
(``/tmp/demo/pipeline/Trainer_<approach>/model/<n>/Format-Serving`` copied to
``<base_path>/1`` of a models.config naming them ``cnn2d_balanced``, ``cnn1d_balanced``,
``cnn1d_150k``; ``envsound serve --port=8500 --model_config_file=...``), as docs/images'
shots were made.

It opens the real window (``envsound gui``'s ``App``) at its default size at the screen's
top left corner with each model's own map, and saves, cropped to the window:

* ``gui_cold_start.png``: ``--model``'s map before Predict, figures in its title;
* ``gui_neighbours.png``: after Predict of ``--count`` clips, the results table and a
  clicked clip's nearest neighbours listed and ringed on the map;
* ``gui_compare.png``: the Compare tab, ``--model`` beside ``--compare``.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.support.deadline import wait_for  # pylint: disable=wrong-import-position

TIMEOUT_S = 300


def _pump(app, until, what: str) -> None:
  """Runs Tk's loop until ``until()``; TimeoutError after TIMEOUT_S."""
  def ready():
    app.root.update()
    return until()
  try:
    wait_for(ready, TIMEOUT_S, what, interval_s=0.01)
  except TimeoutError as e:
    raise TimeoutError(f'{e}; status {app.status_var.get()!r}, '
                       f'banner {app.banner_var.get()!r}') from None


def _settle(app, seconds: float = 0.5) -> None:
  end = time.monotonic() + seconds
  while time.monotonic() < end:
    app.root.update()
    time.sleep(0.02)


def _measured(app) -> bool:
  from envsound.gui import figures  # pylint: disable=import-outside-toplevel
  return all(m.separation is not None or not figures.measurable(m) for m in app.ws.maps)


def _shot(app, path: Path) -> None:
  from PIL import ImageGrab  # pylint: disable=import-outside-toplevel
  root = app.root  # at the screen's top left corner; its menu bar lies above its rooty
  ImageGrab.grab(bbox=(0, 0, root.winfo_rootx() + root.winfo_width(),
                       root.winfo_rooty() + root.winfo_height()),
                 xdisplay=os.environ['DISPLAY']).save(path)
  print(f'{path}: {path.stat().st_size // 1024} KB')


def _loneliest_clip(app) -> int:
  """The clip in view whose star is farthest from the others, so its rings read clearly."""
  ax = app.map_view.axes[0]
  xy = np.asarray(app.map_view._new[0].get_offsets(), np.float64)  # pylint: disable=protected-access
  (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
  seen = (xy[:, 0] > x0) & (xy[:, 0] < x1) & (xy[:, 1] > y0) & (xy[:, 1] < y1)
  gap = np.linalg.norm(xy[:, None] - xy[None], axis=2) + np.eye(len(xy)) * 1e9
  return int(np.argmax(np.where(seen, gap.min(axis=1), -1)))


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--server', required=True, help='host:port of the serving models')
  parser.add_argument('--clips', type=Path, required=True, help='folder of .npy clips')
  parser.add_argument('--out', type=Path, default=Path('docs/images'))
  parser.add_argument('--model', default='cnn1d_balanced')
  parser.add_argument('--compare', default='cnn2d_balanced')
  parser.add_argument('--count', type=int, default=60, help='clips to predict')
  args = parser.parse_args(argv)
  os.environ['XDG_CONFIG_HOME'] = tempfile.mkdtemp(prefix='envsound-shots-')  # not yours
  os.environ.pop('ENVSOUND_REFERENCE', None)
  # pylint: disable=import-outside-toplevel
  from envsound.gui import app as gui_app, neighbours as nn
  from envsound.gui.window import NO_COMPARE
  args.out.mkdir(parents=True, exist_ok=True)
  root = gui_app.make_root()
  root.geometry('1360x860+0+0')
  app = gui_app.App(root, server=args.server, model=args.model,
                    models=[args.model, args.compare])
  _pump(app, lambda: app.ws.maps and _measured(app), 'the model\'s map')
  _settle(app)
  _shot(app, args.out / 'gui_cold_start.png')

  clips = sorted(args.clips.glob('*.npy'))[:args.count]
  app.load_files(clips)
  app.compare_var.set(args.compare if args.compare in app.ws.choices else NO_COMPARE)
  app.predict()
  _pump(app, lambda: not app.busy and app.ws.outcome and _measured(app), 'Predict')
  if app.banner_var.get():
    print(f'error shown: {app.banner_var.get()}', file=sys.stderr)
    return 1
  app.point_picked(app.map_view, 0, nn.Point(nn.CLIP, _loneliest_clip(app)))
  _settle(app)
  _shot(app, args.out / 'gui_neighbours.png')
  app.right.select(app.compare_view)
  _settle(app)
  _shot(app, args.out / 'gui_compare.png')
  app.close()
  return 0


if __name__ == '__main__':
  sys.exit(main())

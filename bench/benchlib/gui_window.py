"""The desktop-client bench's data, its timed window (run in a fresh process) and its report."""

import csv
import time
from pathlib import Path

import numpy as np

MODEL_NAME = 'cnn1d_balanced'
NUM_CLIPS = 500
NUM_REFERENCE = 1000


def write_data(root: Path, environments, seed: int = 0):
  """A reference set (manifest.csv + 1000 .npy) and 500 user clips; returns their folders."""
  rng = np.random.default_rng(seed)
  centres = rng.integers(30, 225, size=(len(environments), 128)).astype(np.float64)

  def clip(k, frames=10, dtype=np.uint8):
    values = np.clip(centres[k] + rng.normal(0, 25, (frames, 128)), 0, 255)
    return values.astype(np.uint8) if dtype == np.uint8 else (values * (4 / 255) - 2)

  ref = root / 'reference'
  ref.mkdir(parents=True)
  with open(ref / 'manifest.csv', 'w', newline='') as f:
    out = csv.writer(f)
    out.writerow(['file', 'video_id', 'start_time_seconds', 'end_time_seconds', 'label_mids',
                  'label_names', 'environment'])
    for i in range(NUM_REFERENCE):
      k = i % len(environments)
      np.save(ref / f'ref{i:04d}.npy', clip(k))
      out.writerow([f'ref{i:04d}.npy', f'vid{i:05d}', 0.0, 10.0, '', '', environments[k]])
  clips = root / 'clips'
  clips.mkdir()
  for i in range(NUM_CLIPS):  # mostly uint8 10-frame clips, some float and some short ones
    np.save(clips / f'clip{i:03d}.npy',
            clip(i % len(environments), 10 if i % 7 else 8,
                 np.float32 if i % 5 == 0 else np.uint8))
  return ref, clips


def _pump(app, until, timeout_s: float) -> None:
  deadline = time.monotonic() + timeout_s
  while not until():
    if time.monotonic() > deadline:
      raise TimeoutError(f'status {app.status_var.get()!r}, banner {app.banner_var.get()!r}')
    app.root.update()
    time.sleep(0.002)


def child(target: str, reference: Path, clips: Path, warm_runs: int) -> dict:
  """One window in this (fresh) process: a cold Predict, then ``warm_runs`` warm ones."""
  # pylint: disable=import-outside-toplevel
  from envsound.gui import app as gui_app
  from envsound.gui import loader, session
  from envsound.serving.client import Client
  out = {}
  t = time.perf_counter()
  window = gui_app.App(gui_app.make_root(), server=target, model=MODEL_NAME,
                       models=[MODEL_NAME], reference=reference, connect=False)
  out['open_window_s'] = time.perf_counter() - t
  window.root.update()
  t = time.perf_counter()
  window.load_files([clips])
  out['load_500_files_s'] = time.perf_counter() - t
  assert len(window.ws.clips) == NUM_CLIPS, window.status_var.get()
  t = time.perf_counter()
  connected = []
  window.connect(then=lambda: connected.append(time.perf_counter()))
  _pump(window, lambda: connected, 120)
  out['connect_s'] = connected[0] - t

  def press():
    t = time.perf_counter()
    window.predict_button.invoke()
    assert window.busy, window.banner_var.get() or window.status_var.get()
    _pump(window, lambda: not window.busy, 600)
    wall = time.perf_counter() - t
    if window.banner_var.get():
      raise RuntimeError(window.banner_var.get())
    assert window.map_view.counts() == [(NUM_REFERENCE, NUM_CLIPS)], window.map_view.counts()
    return dict(window.timings, wall=wall)

  out['cold'] = press()
  out['warm'] = [press() for _ in range(warm_runs)]
  # The server round trip alone, as session.predict sends it (batches of 100).
  frames = [loader.load_clip(p).frames for p in sorted(clips.glob('*.npy'))]
  with Client(target) as client:
    session.predict(client, session.ModelChoice(MODEL_NAME), frames)  # connect, warm
    trips = []
    for _ in range(max(warm_runs, 3)):
      t = time.perf_counter()
      session.predict(client, session.ModelChoice(MODEL_NAME), frames)
      trips.append(time.perf_counter() - t)
  out['round_trip_s'] = trips
  window.close()
  return out


def print_report(runs: dict) -> None:
  """Prints each window's timings and the warm Predict against the round trip alone."""
  def fmt(t):
    return (f'{t["wall"]:7.2f} s  (predict {t["predict0"]:.2f}, map {t["map0"]:.2f}, '
            f'draw {t["draw"]:.2f}; window total {t["total"]:.2f})')
  for name, r in runs.items():
    print(f'{name}:')
    print(f'  open window {r["open_window_s"]:.2f} s, load+validate 500 files '
          f'{r["load_500_files_s"]:.2f} s, connect {r["connect_s"]:.2f} s')
    print(f'  cold Predict (ref 1000 predicted + UMAP fit + 500 predicted + transform + draw):'
          f'\n    {fmt(r["cold"])}')
    for i, t in enumerate(r['warm']):
      print(f'  warm Predict {i + 1} (500 predicted + transform + draw): {fmt(t)}')
    trips = r['round_trip_s']
    print(f'  server round trip alone, 500 clips in batches of 100: median '
          f'{np.median(trips):.2f} s (' + ', '.join(f'{t:.2f}' for t in trips) + ')')
  warm = [t['wall'] for r in runs.values() for t in r['warm']]
  trips = [t for r in runs.values() for t in r['round_trip_s']]
  print(f'\nwarm Predict on 500 clips: median {np.median(warm):.2f} s, max {max(warm):.2f} s '
        f'(goal <= 3 s); server round trip alone: median {np.median(trips):.2f} s; '
        f'the window adds {np.median(warm) - np.median(trips):.2f} s '
        f'(x{np.median(warm) / np.median(trips):.1f})')

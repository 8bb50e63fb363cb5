"""`envsound predict` on 5 clips: wall time of a fresh process, today's code against the old.

Each round runs two fresh processes against the same server, alternating:
  * new: ``envsound predict`` of this checkout (no TensorFlow: generated messages).
  * old: the same command from the code at ``--old`` (default 946d383, the last commit whose
    client used tensorflow-serving-api and so imported TensorFlow), unpacked with
    ``git archive`` and put first on PYTHONPATH; the same venv, server and clips.
The issue's baseline, 22.8 s (a fresh clone after ``make demo``, 2 cores, cnn1d_150k), is
printed beside them; the goal is <= 1.5 s.

By default it serves the tests' tiny model with ``envsound serve`` on a free 127.0.0.1 port;
``--server HOST:PORT --model NAME`` measures against a running server instead (e.g. the
demo's cnn1d_150k).

  .venv/bin/python bench/predict_cli.py [--rounds 5] [--server 127.0.0.1:8500 --model cnn1d_150k]
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
ISSUE_BASELINE_S = 22.8
GOAL_S = 1.5
NUM_CLIPS = 5


def write_clips(folder: Path):
  import numpy as np  # pylint: disable=import-outside-toplevel
  rng = np.random.default_rng(0)
  paths = []
  for i in range(NUM_CLIPS):
    paths.append(folder / f'clip{i}.npy')
    np.save(paths[-1], rng.integers(0, 256, (10, 128), np.uint8))
  return paths


def old_code(commit: str, folder: Path) -> Path:
  """The ``envsound`` package as it was at ``commit``, unpacked under ``folder``."""
  archive = subprocess.run(['git', '-C', str(REPO), 'archive', commit, 'envsound'],
                           capture_output=True, check=True).stdout
  subprocess.run(['tar', '-x', '-C', str(folder)], input=archive, check=True)
  return folder


def timed(argv, env, cwd) -> tuple:
  """Runs ``argv``; returns (wall seconds, CPU seconds of the process: user + system)."""
  before = resource.getrusage(resource.RUSAGE_CHILDREN)
  start = time.perf_counter()
  done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
                        check=False)
  elapsed = time.perf_counter() - start
  after = resource.getrusage(resource.RUSAGE_CHILDREN)
  if done.returncode != 0:
    raise RuntimeError(f'{argv[2:]} failed: {done.stderr[-2000:]}')
  return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(target: str, model: str, rounds: int, old: Path, clips) -> dict:
  env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'TF_CPP_MIN_LOG_LEVEL')}
  argv = [sys.executable, '-m', 'envsound', 'predict', '--server', target, '--model', model,
          *map(str, clips)]
  runs = {'new': [], 'old': []}
  for _ in range(rounds):  # cwd: not the checkout, whose envsound would shadow PYTHONPATH's
    runs['new'].append(timed(argv, env, old.parent))
    runs['old'].append(timed(argv, dict(env, PYTHONPATH=str(old)), old.parent))
  return runs


def report(runs: dict, model: str, old_commit: str) -> None:
  print(f'envsound predict, {NUM_CLIPS} clips, model {model}, fresh process each, '
        f'{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}, '
        f'{len(runs["new"])} rounds')
  print(f'  {"":<46} {"wall median":>11} {"wall min":>9} {"CPU median":>11}')
  print(f'  {"issue baseline (fresh clone after make demo)":<46} {ISSUE_BASELINE_S:10.1f}s')
  for name, label in (('old', f'old client ({old_commit}, imports TensorFlow)'),
                      ('new', 'this checkout (no TensorFlow)')):
    wall, cpu = [t for t, _ in runs[name]], [c for _, c in runs[name]]
    print(f'  {label:<46} {statistics.median(wall):10.2f}s {min(wall):8.2f}s '
          f'{statistics.median(cpu):10.2f}s')
  new = statistics.median(t for t, _ in runs['new'])
  old = statistics.median(t for t, _ in runs['old'])
  print(f'  speed-up {old / new:.1f}x (wall); goal <= {GOAL_S} s wall: '
        f'{"met" if new <= GOAL_S else "NOT met"}')


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--rounds', type=int, default=5)
  parser.add_argument('--old', default='946d383', help='commit of the old client')
  parser.add_argument('--server', help='host:port of a running server (default: start one)')
  parser.add_argument('--model', default='cnn1d_balanced')
  args = parser.parse_args(argv)
  with tempfile.TemporaryDirectory(prefix='predict-bench-') as tmp:
    tmp = Path(tmp)
    clips = write_clips(tmp)
    (tmp / 'old').mkdir()
    old = old_code(args.old, tmp / 'old')
    if args.server:
      runs = measure(args.server, args.model, args.rounds, old, clips)
    else:
      from tests.support.server import local_server  # pylint: disable=import-outside-toplevel
      from tests.support.tiny_model import export_serving_dir  # pylint: disable=import-outside-toplevel
      config = export_serving_dir(tmp / 'serving', {args.model: [1]})
      with local_server(model_config_file=config, rest=False, probe_model=args.model,
                        log_dir=tmp) as server:
        runs = measure(server.grpc_target, args.model, args.rounds, old, clips)
  report(runs, args.model, args.old)
  return 0


if __name__ == '__main__':
  sys.exit(main())

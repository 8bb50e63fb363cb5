"""Where a release-scale run's time goes: `envsound pipeline run` per component, vs tf.data.

For each size of unbal_train (bal_train and eval fixed at AudioSet's 22,160 and 20,371
clips; the default 107,469 makes 150k clips in all), a sample release with those split sizes
is generated once, then a child process runs the real command, ``envsound pipeline run
--approaches cnn1d_150k --epochs 1 --min-accuracy 0 --no-cache`` (the 150k cap as a user
gets it), while the summed RSS of its process tree is sampled every 0.2 s. Printed per
size: every component's wall time (ML Metadata), ingestion's clips/s over all the release's
clips (it reads every file of bal_train, unbal_train and eval), the ingestion + Transform
rate against a bare batched tf.data parse of the same files (baseline, same run, best of
three), peak RSS of the whole run and during ingestion. With two sizes or more: growth of
each component against the clip ratio, and ingestion's marginal rate extrapolated to the
whole of AudioSet's unbal_train (2,041,789 clips).

  .venv/bin/python bench/release_scale.py [--unbal 107469,400000] [--work DIR]
"""

import argparse
import bisect
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import benchlib  # pylint: disable=unused-import  (sys.path, TensorFlow's settings)
from benchlib.memory import TreeMemory
from benchlib.pipeline_runs import bare_read
from envsound.report import runs as report_runs


def component_spans(metadata: str) -> Dict[str, Tuple[float, float]]:
  """(start, end) epoch seconds of each component's execution in an ML Metadata file."""
  return report_runs.execution_spans(report_runs.open_store(metadata))


class TreeUsage(TreeMemory):
  """TreeMemory that also samples the tree's CPU seconds (user + system), to split by time.

  On a shared machine wall time depends on the load; CPU time much less.
  """

  def __init__(self, pid: int, interval_s: float = 0.2):
    self.cpu: List[Tuple[float, float]] = []
    self._seen: Dict[int, float] = {}  # last CPU seconds of each process, exited ones kept
    super().__init__(pid, interval_s)

  def _rss(self, proc) -> int:
    try:
      times = proc.cpu_times()
      self._seen[proc.pid] = times.user + times.system
    except self._psutil.Error:
      pass
    return super()._rss(proc)

  def _sample(self) -> None:
    while not self._stop.wait(self._interval):
      try:
        procs = [self._root, *self._root.children(recursive=True)]
      except self._psutil.Error:
        return
      now = time.time()
      self.samples.append((now, sum(self._rss(p) for p in procs)))
      self.cpu.append((now, sum(self._seen.values())))

  def cpu_between(self, start: float, end: float) -> float:
    """CPU seconds the tree used between two epoch times (nearest samples)."""
    times = [t for t, _ in self.cpu]
    at = lambda t: self.cpu[min(bisect.bisect_left(times, t), len(times) - 1)][1]
    return at(end) - at(start) if self.cpu else float('nan')


BAL, EVAL, FULL_UNBAL = 22_160, 20_371, 2_041_789
APPROACH = 'cnn1d_150k'
INGESTION, TRANSFORM = 'ExampleGen_150k', 'Transform_150k'
DEFAULT_WORK = Path('/tmp/envsound-bench/release-scale')


def release(work: Path, unbal: int) -> Path:
  """A sample release with AudioSet's bal_train/eval sizes and ``unbal`` clips, made once."""
  out = work / f'release-{BAL}-{unbal}-{EVAL}'
  if not (out / 'eval').is_dir():
    done = subprocess.run([sys.executable, '-m', 'envsound', 'data', 'sample', '--out', str(out),
                           '--bal', str(BAL), '--unbal', str(unbal), '--eval', str(EVAL),
                           '--overwrite'], check=True, capture_output=True, text=True)
    print(done.stdout.splitlines()[0], flush=True)
  return out


def measured_run(data: Path, root: Path) -> Dict:
  """Runs `envsound pipeline run` on ``data``; returns wall, per-component s, peak RSS."""
  log = root.parent / f'{root.name}.console.txt'
  start = time.perf_counter()
  with open(log, 'w') as out:
    child = subprocess.Popen(
        [sys.executable, '-m', 'envsound', 'pipeline', 'run', '--data', str(data),
         '--pipeline-root', str(root), '--serving-dir', str(root / 'serving'),
         '--approaches', APPROACH, '--epochs', '1', '--min-accuracy', '0', '--no-cache'],
        stdout=out, stderr=subprocess.STDOUT)
    memory = TreeUsage(child.pid)
    code = child.wait()
    memory.stop()
  wall = time.perf_counter() - start
  if code:
    sys.exit(f'pipeline run failed ({code}); see {log}')
  spans = component_spans(str(root / 'metadata.sqlite'))
  ingestion = spans[INGESTION]
  ordered = sorted(spans.items(), key=lambda kv: kv[1][0])
  return {'wall_s': wall, 'peak_mib': memory.peak_mib(),
          'cpu_s': memory.cpu_between(0, float('inf')) if memory.cpu else float('nan'),
          'ingestion_peak_mib': memory.peak_mib(*ingestion),
          'components': {name: end - begin for name, (begin, end) in ordered},
          'cpu': {name: memory.cpu_between(begin, end) for name, (begin, end) in ordered}}


def measure(work: Path, unbal: int) -> Dict:
  data = release(work, unbal)
  files = sorted(str(p) for p in data.glob('*/*.tfrecord'))
  clips = BAL + unbal + EVAL
  baseline = bare_read(files)
  run = measured_run(data, work / f'root-{unbal}')
  seconds = run['components']
  run['clips'] = clips
  run['ingestion_clips_per_s'] = clips / seconds[INGESTION]
  run['data_clips_per_s'] = clips / (seconds[INGESTION] + seconds[TRANSFORM])
  run['vs_tf_data'] = run['data_clips_per_s'] / baseline['clips_per_s']
  data_cpu = run['cpu'][INGESTION] + run['cpu'][TRANSFORM]
  run['vs_tf_data_cpu'] = clips / data_cpu / baseline['clips_per_cpu_s']
  print(f'\n{clips:,} clips ({BAL:,} / {unbal:,} / {EVAL:,}): bare tf.data read '
        f'{baseline["clips_per_s"]:,.0f} clips/s, {baseline["clips_per_cpu_s"]:,.0f} clips per '
        f'CPU s; `pipeline run` wall {run["wall_s"]:.0f} s, CPU {run["cpu_s"]:.0f} s, peak RSS '
        f'{run["peak_mib"]:,.0f} MiB (during ingestion {run["ingestion_peak_mib"]:,.0f} MiB); '
        f'load average at the end {os.getloadavg()[0]:.1f}')
  for name, s in seconds.items():
    print(f'  {name:28s} {s:8.1f} s wall {run["cpu"][name]:8.1f} s CPU')
  print(f'  ingestion {run["ingestion_clips_per_s"]:,.0f} clips/s (wall); ingestion + Transform '
        f'{run["data_clips_per_s"]:,.0f} clips/s = {run["vs_tf_data"]:.4f}x tf.data by wall '
        f'time, {run["vs_tf_data_cpu"]:.4f}x by CPU time', flush=True)
  return run


def summarize(runs: Dict[int, Dict], sizes: List[int]) -> None:
  """Growth per component between the sizes; the whole unbal_train extrapolated."""
  for small, large in zip(sizes, sizes[1:]):
    a, b = runs[small], runs[large]
    print(f'\n{a["clips"]:,} -> {b["clips"]:,} clips (x{b["clips"] / a["clips"]:.2f}): wall '
          f'x{b["wall_s"] / a["wall_s"]:.2f}, peak RSS {a["peak_mib"]:,.0f} -> '
          f'{b["peak_mib"]:,.0f} MiB')
    for name, s in b['components'].items():
      before = a['components'].get(name, float('nan'))
      print(f'  {name:28s} {before:8.1f} -> {s:8.1f} s (x{s / before:.2f})')
    extra = b['components'][INGESTION] - a['components'][INGESTION]
    if extra > 0:
      marginal = (b['clips'] - a['clips']) / extra
      full = BAL + FULL_UNBAL + EVAL
      ingestion = b['components'][INGESTION] + (full - b['clips']) / marginal
      rest = b['wall_s'] - b['components'][INGESTION]
      print(f'  ingestion marginal rate {marginal:,.0f} clips/s; the whole release ({full:,} '
            f'clips) extrapolates to ingestion {ingestion / 60:.0f} min, run '
            f'{(ingestion + rest) / 60:.0f} min (the other components see the 150k cap)')


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--unbal', default='107469', help='unbal_train sizes, comma-separated')
  parser.add_argument('--work', type=Path, default=DEFAULT_WORK,
                      help='folder for releases and pipeline roots (releases are reused)')
  args = parser.parse_args()
  sizes = [int(s) for s in args.unbal.split(',')]
  args.work.mkdir(parents=True, exist_ok=True)
  print(f'{os.cpu_count()} cores; unbal_train sizes {sizes}', flush=True)
  runs = {size: measure(args.work, size) for size in sizes}
  summarize(runs, sizes)


if __name__ == '__main__':
  main()

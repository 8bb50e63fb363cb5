"""Ingestion + Transform through TFX against a bare tf.data read of the same files.

Per sample-release size (default 20,000 and 150,000 clips, all splits) and DirectRunner mode,
a child process runs ImportSchemaGen -> ExampleGen_150k -> Transform_150k as ``envsound
pipeline run`` builds them (``pipeline.pipeline``'s factories, LocalDagRunner, SQLite ML
Metadata, no cache). Printed: wall and CPU time of the run (start-up included), ExampleGen's
and Transform's own times (ML Metadata), clips/s through those two, and the peak summed RSS
of the process tree (Beam's workers included, sampled every 0.2 s). Baseline, same run:
``TFRecordDataset(files).batch(512).map(parse_sequence_example)`` over the same files (no
checks, no writing; best of three). Summary per mode: time growth between sizes against the
clip ratio (150k/20k = 7.5: linear), the marginal rate (extra clips / extra seconds, start-up
removed) against tf.data, peak RSS per size (flat: the data streams), and the fastest mode
per size beside the one ``pipeline run --direct-running-mode auto`` picks.

  .venv/bin/python bench/pipeline_throughput.py [--sizes 20000,150000] [--repeats 1]
      [--modes in_memory,multi_processing] [--max-clips N] [--work /tmp/envsound-bench/pipeline]
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Tuple

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

# pylint: disable=wrong-import-position
from envsound.core import approaches
from envsound.pipeline import beam_args
from envsound.report import runs

DEFAULT_WORK = Path(tempfile.gettempdir()) / 'envsound-bench' / 'pipeline'
TRAINING_SET = approaches.WITH_UNBALANCED  # bal_train + unbal_train, capped
COMPONENTS = (f'ExampleGen_{TRAINING_SET}', f'Transform_{TRAINING_SET}')


def run_pipeline(data: str, root: str, mode: str, max_clips: str = '0') -> None:
  """Runs schema, ingestion and Transform of the 150k training set over ``data``."""
  # pylint: disable=import-outside-toplevel
  from tfx import v1 as tfx
  from envsound.pipeline import configs
  from envsound.pipeline import pipeline as pipeline_lib
  cfg = configs.PipelineConfig(data_root=data, pipeline_root=root,
                               serving_dir=os.path.join(root, 'serving'),
                               approaches=('cnn1d_150k',), enable_cache=False,
                               unbalanced_cap=10**9, max_clips=int(max_clips) or None)
  schema_gen = pipeline_lib.schema_component(cfg)
  example_gen = pipeline_lib.example_gen_component(cfg, TRAINING_SET)
  transform = pipeline_lib.transform_component(example_gen, schema_gen, TRAINING_SET)
  metadata = os.path.join(root, 'metadata.sqlite')
  definition = tfx.dsl.Pipeline(
      pipeline_name='envsound-bench', pipeline_root=root,
      components=[schema_gen, example_gen, transform], enable_cache=False,
      metadata_connection_config=tfx.orchestration.metadata
      .sqlite_metadata_connection_config(metadata),
      beam_pipeline_args=beam_args.direct_args(mode))
  tfx.orchestration.LocalDagRunner().run(definition)


class TreeMemory:
  """Samples the summed RSS of a process and all its descendants (epoch time, bytes)."""

  def __init__(self, pid: int, interval_s: float = 0.2):
    import psutil  # pylint: disable=import-outside-toplevel
    self._root = psutil.Process(pid)
    self._psutil = psutil
    self._interval = interval_s
    self.samples: List[Tuple[float, int]] = []
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._sample, daemon=True)
    self._thread.start()

  def _sample(self) -> None:
    while not self._stop.wait(self._interval):
      try:
        procs = [self._root, *self._root.children(recursive=True)]
      except self._psutil.Error:  # the run ended
        return
      self.samples.append((time.time(), sum(self._rss(p) for p in procs)))

  def _rss(self, proc) -> int:
    try:
      return proc.memory_info().rss
    except self._psutil.Error:  # exited since listed
      return 0

  def stop(self) -> None:
    self._stop.set()
    self._thread.join()

  def peak_mib(self, start: float = 0.0, end: float = float('inf')) -> float:
    """Largest sample between ``start`` and ``end`` (epoch seconds), in MiB."""
    return max((b for t, b in self.samples if start <= t <= end), default=0) / 2**20


def release(work: Path, clips: int) -> Path:
  """A sample release of ``clips`` clips, generated once under ``work``."""
  out = work / f'release-{clips}'
  if not (out / 'eval').is_dir():
    done = subprocess.run([sys.executable, '-m', 'envsound', 'data', 'sample', '--out',
                           str(out), '--clips', str(clips), '--overwrite'],
                          check=True, capture_output=True, text=True)
    print(done.stdout.splitlines()[0], flush=True)
  return out


def tf_data_read(files: List[str]) -> Dict[str, float]:
  """Clips per second of a bare batched tf.data parse of ``files``."""
  # pylint: disable=import-outside-toplevel
  import tensorflow as tf
  context = {'video_id': tf.io.FixedLenFeature([], tf.string),
             'labels': tf.io.VarLenFeature(tf.int64)}
  sequence = {'audio_embedding': tf.io.FixedLenSequenceFeature([], tf.string)}
  dataset = tf.data.TFRecordDataset(files).batch(512).map(
      lambda raw: tf.io.parse_sequence_example(raw, context, sequence)[0]['video_id'])
  times = []
  for _ in range(3):  # best of three: the read takes well under a second
    start = time.perf_counter()
    clips = sum(int(batch.shape[0]) for batch in dataset)
    times.append(time.perf_counter() - start)
  return {'clips': clips, 'seconds': min(times), 'clips_per_s': clips / min(times)}


def measured_run(data: Path, root: Path, mode: str, max_clips: int = 0) -> Dict[str, float]:
  """Runs the child pipeline, sampling its memory; returns times and peak RSS."""
  shutil.rmtree(root, ignore_errors=True)
  root.mkdir(parents=True)
  log = root.parent / f'{root.name}.log'
  cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
  start = time.perf_counter()
  with open(log, 'w') as out:
    child = subprocess.Popen([sys.executable, __file__, '--child', str(data), str(root), mode,
                              str(max_clips)],
                             stdout=out, stderr=subprocess.STDOUT)
    memory = TreeMemory(child.pid)
    code = child.wait()
    memory.stop()
  wall = time.perf_counter() - start
  cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
  if code:
    sys.exit(f'pipeline run failed ({code}); see {log}')
  spans = runs.execution_spans(runs.open_store(str(root / 'metadata.sqlite')))
  run = {'wall_s': wall, 'peak_mib': memory.peak_mib(),  # CPU: the tree's waited processes
         'cpu_s': cpu.ru_utime + cpu.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime}
  for name in COMPONENTS:
    begin, end = spans.get(name, (float('nan'), float('nan')))
    run[name] = end - begin
    run[f'{name}_peak_mib'] = memory.peak_mib(begin, end)
  return run


def measure_size(args, size: int, modes: List[str]) -> Dict:
  """The tf.data baseline and the best of ``args.repeats`` runs of each mode at ``size``."""
  data = release(args.work, size)
  files = sorted(str(p) for p in data.glob('*/*.tfrecord'))  # as pipeline run --data sees
  nbytes = sum(os.path.getsize(f) for f in files)
  baseline = tf_data_read(files)
  result = {'mib': nbytes / 2**20, 'tf_data': baseline,
            'auto_mode': beam_args.auto_running_mode(nbytes, os.cpu_count() or 1)}
  print(f'\n{size:,} clips ({nbytes / 2**20:.0f} MiB of records): bare tf.data read '
        f'{baseline["clips_per_s"]:,.0f} clips/s', flush=True)
  runs: Dict[str, List[Dict[str, float]]] = {mode: [] for mode in modes}
  for _ in range(args.repeats):  # modes in turn, so drifting load hits each alike
    for mode in modes:
      name = f'root-{size}-{mode}' + (f'-max{args.max_clips}' if args.max_clips else '')
      run = measured_run(data, args.work / name, mode, args.max_clips)
      run['data_s'] = run[COMPONENTS[0]] + run[COMPONENTS[1]]
      runs[mode].append(run)
  for mode in modes:
    run = result[mode] = min(runs[mode], key=lambda r: r['data_s'])  # load only adds time
    run['clips_per_s'] = size / run['data_s']  # every clip is read, kept or not
    run['vs_tf_data'] = run['clips_per_s'] / baseline['clips_per_s']
    each = ', '.join(f'{r["data_s"]:.0f}' for r in runs[mode])
    print(f'  {mode:16s} wall {run["wall_s"]:6.1f} s (CPU {run["cpu_s"]:6.1f} s)  ExampleGen '
          f'{run[COMPONENTS[0]]:6.1f} s  Transform {run[COMPONENTS[1]]:6.1f} s  '
          f'{run["clips_per_s"]:6,.0f} clips/s ({run["vs_tf_data"]:.4f}x tf.data)\n'
          f'  {"":16s} peak RSS {run["peak_mib"]:,.0f} MiB (ExampleGen '
          f'{run[COMPONENTS[0] + "_peak_mib"]:,.0f}, Transform '
          f'{run[COMPONENTS[1] + "_peak_mib"]:,.0f}); ExampleGen + Transform of each run: '
          f'{each} s', flush=True)
  return result


def summarize(results: Dict, sizes: List[int], modes: List[str]) -> None:
  """Prints growth, marginal rate and memory per mode, and the fastest mode per size."""
  print('\nSummary (ExampleGen + Transform time; ratios are the comparable part)')
  for mode in modes:
    for small, large in zip(sizes, sizes[1:]):
      a, b = results[small][mode], results[large][mode]
      extra_s = b['data_s'] - a['data_s']
      marginal = (f'{(large - small) / extra_s:,.0f} clips/s ('
                  f'{(large - small) / extra_s / results[large]["tf_data"]["clips_per_s"]:.4f}'
                  'x tf.data)' if extra_s > 0 else 'n/a (no extra time)')
      print(f'  {mode}: {large:,} clips took {b["data_s"] / a["data_s"]:.2f}x the time of '
            f'{small:,} (clips x{large / small:.2f}; whole run wall '
            f'{b["wall_s"] / a["wall_s"]:.2f}x, CPU {b["cpu_s"] / a["cpu_s"]:.2f}x); marginal '
            f'{marginal}; peak RSS {a["peak_mib"]:,.0f} -> {b["peak_mib"]:,.0f} MiB '
            f'({b["peak_mib"] / a["peak_mib"]:.2f}x)')
  for size in sizes:
    if len(modes) > 1:
      best = min(modes, key=lambda m: results[size][m]['data_s'])
      times = ', '.join(f'{m} {results[size][m]["data_s"]:.0f} s' for m in modes)
      print(f'  {size:,} clips ({results[size]["mib"]:.0f} MiB): fastest {best} ({times}); '
            f'--direct-running-mode auto on {os.cpu_count()} cores picks '
            f'{results[size]["auto_mode"]}')


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--sizes', default='20000,150000', help='release sizes in clips')
  parser.add_argument('--modes', default='in_memory,multi_processing',
                      help='DirectRunner modes to compare')
  parser.add_argument('--repeats', type=int, default=1,
                      help='runs per size and mode; the fastest is reported')
  parser.add_argument('--work', type=Path, default=DEFAULT_WORK,
                      help='folder for releases and pipeline roots (reused)')
  parser.add_argument('--max-clips', type=int, default=0,
                      help='keep at most N clips per split (as `pipeline run --max-clips`); '
                           'default: keep all')
  parser.add_argument('--child', nargs=4, help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.child:
    run_pipeline(*args.child)
    return
  sizes = [int(s) for s in args.sizes.split(',')]
  modes = args.modes.split(',')
  print(f'{os.cpu_count()} cores; sizes {sizes}; modes {modes}; {args.repeats} run(s) each; '
        f'max clips per split {args.max_clips or "all"}', flush=True)
  results = {size: measure_size(args, size, modes) for size in sizes}
  summarize(results, sizes, modes)
  print(json.dumps({str(k): v for k, v in results.items()}))


if __name__ == '__main__':
  main()

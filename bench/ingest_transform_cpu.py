"""Ingestion and Transform of the 150k training set in this process, against the bare read.

Runs, in one process and in turn: the bare batched tf.data read of the release's files
(``benchlib.pipeline_runs.bare_read``, the baseline of bench/release_scale.py); ingestion,
``audioset_example_gen.Executor._build`` (both splits, the 150k cap, Beam's in_memory
DirectRunner); Transform, ``local_transform.run_transform`` over ingestion's splits (the
Transform component's tf.Transform graph and TFXIO reads). Printed: each one's CPU seconds
(``time.process_time``: every thread of this process) and wall seconds, the ingestion +
Transform ratio against the bare read by CPU and by wall time, and the load average.
``--compare DIR`` checks the outputs against an earlier run's ``--work`` folder: every
ingested record of every split equal (as multisets), the ingestion counts identical, and
Transform's examples equal per clip id (floats within 1e-5). ``--profile``
writes a cProfile of each part (CPU time) beside the outputs.

  .venv/bin/python bench/ingest_transform_cpu.py --data RELEASE --work DIR [--compare DIR]
      [--profile] [--parts ingestion,transform]
"""

import argparse
import cProfile
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

import benchlib  # pylint: disable=unused-import  (sys.path, TensorFlow's settings)
from benchlib.pipeline_runs import bare_read
from envsound.core import features
from envsound.pipeline import beam_args, configs

TRAIN, EVAL = 'train', 'eval'
CAP = configs.DEFAULT_UNBALANCED_CAP
FLOAT_TOLERANCE = 1e-5


def ingest(data: Path, out: Path) -> None:
  """Ingestion's Beam graph over ``data`` into ``out/Split-<name>/`` and its counts file."""
  # pylint: disable=import-outside-toplevel
  import apache_beam as beam
  from apache_beam.options.pipeline_options import PipelineOptions
  from envsound.components import audioset_example_gen as gen
  plan = {TRAIN: (gen.sources(str(data), configs.TRAIN_PATTERNS['150k']), CAP),
          EVAL: (gen.sources(str(data), configs.EVAL_PATTERN), None)}
  options = PipelineOptions(beam_args.direct_args('in_memory'))
  with beam.Pipeline(options=options) as pipeline:
    gen.Executor._build(  # pylint: disable=protected-access
        pipeline, plan, str(data / 'class_labels_indices.csv'),
        lambda split: str(out / f'Split-{split}'), str(out / gen.COUNTS_FILE))


def transform(examples: Path, out: Path) -> None:
  """tf.Transform's analyse and transform passes over ingestion's splits."""
  # pylint: disable=import-outside-toplevel
  from envsound.components import local_transform
  schema = local_transform.load_schema(configs.RAW_SCHEMA)
  local_transform.run_transform({s: str(examples / f'Split-{s}' / '*') for s in (TRAIN, EVAL)},
                                schema, str(out))


def timed(name: str, fn, profile: Path = None):
  """(CPU s, wall s) of ``fn()``; with ``profile``, its cProfile is written there."""
  profiler = cProfile.Profile(time.process_time) if profile else None
  cpu, wall = time.process_time(), time.perf_counter()
  if profiler:
    profiler.runcall(fn)
    profiler.dump_stats(str(profile))
  else:
    fn()
  cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
  print(f'  {name:10s} {cpu:7.1f} s CPU {wall:7.1f} s wall (load average '
        f'{os.getloadavg()[0]:.1f})', flush=True)
  return cpu, wall


def records_of(folder: Path):
  """Sorted records of the gzip TFRecords under ``folder``."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  files = sorted(str(p) for p in folder.glob('*') if p.is_file())
  return sorted(tf.data.TFRecordDataset(files, compression_type='GZIP').as_numpy_iterator())


def transformed_of(folder: Path):
  """{clip id: {feature: values}} of the transformed tf.Examples under ``folder``."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  out = {}
  for record in records_of(folder):
    feature = tf.train.Example.FromString(record).features.feature
    out[feature[features.CLIP_ID_XF].bytes_list.value[0]] = {
        key: np.array(value.float_list.value or value.int64_list.value)
        for key, value in feature.items() if key != features.CLIP_ID_XF}
  return out


def compare(work: Path, other: Path) -> None:
  """Exits unless ``work`` holds what ``other`` holds: every ingested record of each split
  (as a multiset) and the counts identical; Transform's examples per clip id, integers equal
  and floats within ``FLOAT_TOLERANCE`` (the analysers sum in whatever order records come)."""
  from envsound.components import audioset_example_gen as gen  # pylint: disable=import-outside-toplevel
  same = True
  for split in (TRAIN, EVAL):
    ours, theirs = (records_of(w / 'examples' / f'Split-{split}') for w in (work, other))
    same &= ours == theirs
    print(f'  examples/Split-{split}: {len(ours):,} records, {len(theirs):,} in {other}: '
          f'{"all equal" if ours == theirs else "DIFFERENT"}')
    sub = Path('transform/transformed_examples') / f'Split-{split}'
    if (work / sub).is_dir() and (other / sub).is_dir():
      ours, theirs = transformed_of(work / sub), transformed_of(other / sub)
      worst = max((float(np.abs(a[k] - theirs[c][k]).max(initial=0)) for c, a in ours.items()
                   if c in theirs for k in a), default=0.0)
      equal = ours.keys() == theirs.keys() and worst <= FLOAT_TOLERANCE
      same &= equal
      print(f'  {sub}: {len(ours):,} clips, {len(theirs):,} in {other}; largest difference '
            f'{worst:.2g}: {"equal" if equal else "DIFFERENT"}')
  counts = [json.loads((w / 'examples' / gen.COUNTS_FILE).read_text()) for w in (work, other)]
  print(f'  counts {"identical" if counts[0] == counts[1] else "DIFFERENT"}: {counts[0]}')
  if not same or counts[0] != counts[1]:
    raise SystemExit(1)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--data', type=Path, required=True, help='the release to ingest')
  parser.add_argument('--work', type=Path, required=True, help='output folder (replaced)')
  parser.add_argument('--compare', type=Path, help="an earlier run's --work to check against")
  parser.add_argument('--parts', default='ingestion,transform')
  parser.add_argument('--profile', action='store_true', help='cProfile each part')
  args = parser.parse_args()
  parts = args.parts.split(',')
  files = sorted(str(p) for p in args.data.glob('*/*.tfrecord'))
  if 'ingestion' in parts:
    shutil.rmtree(args.work, ignore_errors=True)
  shutil.rmtree(args.work / 'transform', ignore_errors=True)
  (args.work / 'transform').mkdir(parents=True)
  print(f'{os.cpu_count()} cores, {len(files):,} files; load average {os.getloadavg()[0]:.1f}',
        flush=True)
  baseline = bare_read(files)
  clips = baseline['clips']
  print(f'  bare read  {baseline["cpu_s"]:7.1f} s CPU: {clips:,} clips, '
        f'{baseline["clips_per_cpu_s"]:,.0f} clips per CPU s, {baseline["clips_per_s"]:,.0f} '
        'clips/s', flush=True)
  steps = {'ingestion': lambda: ingest(args.data, args.work / 'examples'),
           'transform': lambda: transform(args.work / 'examples', args.work / 'transform')}
  spent = {name: timed(name, steps[name], args.profile and args.work / f'{name}.prof')
           for name in parts}
  cpu, wall = sum(c for c, _ in spent.values()), sum(w for _, w in spent.values())
  print(f'  {" + ".join(parts)}: {clips / cpu:,.0f} clips per CPU s = '
        f'{clips / cpu / baseline["clips_per_cpu_s"]:.4f}x the bare read by CPU time, '
        f'{clips / wall / baseline["clips_per_s"]:.4f}x by wall time', flush=True)
  if args.compare:
    compare(args.work, args.compare)


if __name__ == '__main__':
  main()

"""Clip reading: envsound's checked reader against plain TensorFlow loops, same files, same run.

  * envsound: ``reader.read_clips`` over every split (validated ``Clip`` objects with uint8
    frames, as ``envsound data inspect/export`` use it).
  * bare loop: ``tf.data.TFRecordDataset`` + ``tf.io.parse_single_sequence_example`` per
    record (eager), no checks, no conversion to numpy.
  * batched tf.data: ``TFRecordDataset(files).batch(512).map(tf.io.parse_sequence_example)``,
    iterated to tensors: the fastest plain-TF way, no checks and no per-clip objects.

Each is run once to warm up, then ``--repeats`` times in turn; best and median are printed.

  .venv/bin/python bench/read_throughput.py [--clips 20000] [--data RELEASE] [--repeats 3]
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

# pylint: disable=wrong-import-position
import tensorflow as tf

from envsound.audioset import reader, sample
from envsound.audioset.release import find_release
from envsound.core import features, records

_CONTEXT, _SEQUENCE = records.parse_spec()  # the release's own spec, as the reader's


def envsound_reader(files, num_classes):
  return sum(1 for _ in reader.read_clips(files, num_classes))


def bare_loop(files, _):
  n = 0
  for raw in tf.data.TFRecordDataset([str(f) for f in files]):
    tf.io.parse_single_sequence_example(raw, _CONTEXT, _SEQUENCE)
    n += 1
  return n


def _parse_batch(records):
  return tf.io.parse_sequence_example(records, _CONTEXT, _SEQUENCE)[:2]


def batched_tf_data(files, _):
  dataset = tf.data.TFRecordDataset([str(f) for f in files]).batch(512).map(
      _parse_batch).prefetch(2)
  return sum(int(ctx[features.VIDEO_ID_KEY].shape[0]) for ctx, _ in dataset)


def _measure(fn, files, num_classes, repeats):
  rates = []
  for _ in range(repeats):
    began = time.perf_counter()
    n = fn(files, num_classes)
    rates.append(n / (time.perf_counter() - began))
  return n, rates


def run(root, repeats: int) -> None:
  release = find_release(root)
  files = [f for s in release.splits for f in release.files[s]]
  num_classes = len(release.class_labels)
  size = sum(f.stat().st_size for f in files)
  contenders = (('envsound reader (checked Clips)', envsound_reader),
                ('bare loop: TFRecordDataset + parse_single_sequence_example', bare_loop),
                ('batched tf.data parse_sequence_example (no checks)', batched_tf_data))
  for _, fn in contenders:  # warm-up: traces tf.functions, fills the page cache
    fn(files, num_classes)
  rates = {name: [] for name, _ in contenders}
  clips = 0
  for _ in range(repeats):  # in turn, so drifting load hits every contender alike
    for name, fn in contenders:
      clips, rate = _measure(fn, files, num_classes, 1)
      rates[name] += rate
  print(f'read throughput: {clips:,} clips in {len(files)} files ({size / 2**20:.1f} MiB), '
        f'{os.cpu_count()} CPUs, best / median of {repeats}')
  for name, values in rates.items():
    print(f'  {name:<60}{max(values):>10,.0f}{statistics.median(values):>10,.0f} clips/s')
  ours = rates[contenders[0][0]]
  for name, _ in contenders[1:]:
    print(f'  ratio envsound / {name.split(":")[0].split(" (")[0]}: '
          f'best {max(ours) / max(rates[name]):.2f}, '
          f'median {statistics.median(ours) / statistics.median(rates[name]):.2f}')


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--clips', type=int, default=20_000, help='clips to generate')
  parser.add_argument('--data', help='read this release instead of generating one')
  parser.add_argument('--repeats', type=int, default=3)
  args = parser.parse_args()
  if args.data:
    run(args.data, args.repeats)
    return
  with tempfile.TemporaryDirectory(prefix='envsound-bench-') as tmp:
    began = time.perf_counter()
    sample.generate_release(os.path.join(tmp, 'audioset'), args.clips, progress=False)
    print(f'(generated {args.clips:,} clips in {time.perf_counter() - began:.1f} s)')
    run(os.path.join(tmp, 'audioset'), args.repeats)


if __name__ == '__main__':
  started = time.perf_counter()
  main()
  print(f'(benchmark took {time.perf_counter() - started:.0f} s)')

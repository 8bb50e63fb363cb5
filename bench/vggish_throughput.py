"""VGGish embedding throughput: seconds of audio embedded per second of wall time, 2 cores.

  * files: ``audio.read_audio`` per file (decode, mix down, resample to 16 kHz) then
    ``Embedder.embed_many`` (front end, network, PCA, quantise; equal-length files share
    model calls), the SavedModel loaded once, as ``envsound embed`` runs it; the same with
    one call per file (``Embedder.embed``); and ``embed.embed_files`` whole (model load,
    .npy and manifest writes).
  * baseline: the same network (``network.VGGish`` with the same weights) called in-process
    in a ``tf.function`` on precomputed log-mel examples, 64 per call: the network alone.

Random weights (a demo checkpoint) cost what Google's do: same shapes, same operations. Each
measurement runs once to warm up, then ``--repeats`` times; best and median are printed.

  .venv/bin/python bench/vggish_throughput.py [--files 6] [--seconds 10] [--rate 44100]
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
CORES = 2
if hasattr(os, 'sched_setaffinity') and len(os.sched_getaffinity(0)) > CORES:
  os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:CORES])

# pylint: disable=wrong-import-position
import numpy as np
import soundfile
import tensorflow as tf

from envsound.core import audio
from envsound.vggish import checkpoint, demo_files, embed, export, frontend, network

tf.config.threading.set_intra_op_parallelism_threads(CORES)
tf.config.threading.set_inter_op_parallelism_threads(CORES)


def write_files(folder: Path, count: int, seconds: float, rate: int):
  """Stereo noise-and-tone wav files."""
  rng = np.random.default_rng(0)
  t = np.arange(int(seconds * rate)) / rate
  for i in range(count):
    left = 0.2 * np.sin(2 * np.pi * rng.uniform(200, 4000) * t) + rng.normal(0, 0.05, len(t))
    right = rng.normal(0, 0.1, len(t))
    soundfile.write(folder / f'clip{i}.wav', np.stack([left, right], 1).clip(-1, 1), rate)
  return sorted(folder.glob('*.wav'))


def timed(fn, repeats: int):
  fn()
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return min(times), statistics.median(times)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--files', type=int, default=6)
  parser.add_argument('--seconds', type=float, default=10.0, help='per file')
  parser.add_argument('--rate', type=int, default=44100, help='sample rate of the files')
  parser.add_argument('--repeats', type=int, default=3)
  args = parser.parse_args()
  with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    ckpt, pca = demo_files.write_demo_files(tmp / 'ckpt')
    model_dir = export.export_model(ckpt, pca, tmp / 'vggish', version=1)
    (tmp / 'audio').mkdir()
    files = write_files(tmp / 'audio', args.files, args.seconds, args.rate)
    total = args.files * args.seconds
    embedder = embed.Embedder(model_dir)

    def files_in_process():
      embedder.embed_many([audio.read_audio(path) for path in files])

    def files_one_by_one():
      for path in files:
        embedder.embed(audio.read_audio(path))

    runs = iter(range(1000))

    def embed_files_whole():
      embed.embed_files(model_dir, [tmp / 'audio'], tmp / f'out{next(runs)}')

    net = network.VGGish(checkpoint.read_checkpoint(ckpt))
    call = tf.function(net, input_signature=[tf.TensorSpec([None, 96, 64], tf.float32)])
    examples = np.concatenate([frontend.examples(tf.constant(audio.read_audio(p))).numpy()
                               for p in files])

    def baseline():
      for start in range(0, len(examples), embed.EXAMPLES_PER_CALL):
        call(examples[start:start + embed.EXAMPLES_PER_CALL]).numpy()

    print(f'{args.files} files x {args.seconds:g} s at {args.rate} Hz stereo = {total:g} s of '
          f'audio ({len(examples)} examples), {CORES} cores, best/median of {args.repeats}')
    print(f'{"":<44}{"best s":>8}{"median s":>10}{"x real time":>13}')
    for name, fn, seconds in (
        ('baseline: network on precomputed log-mel', baseline, len(examples) * 0.96),
        ('files: read + resample + embed, batched', files_in_process, total),
        ('files: the same, one model call per file', files_one_by_one, total),
        ('embed_files: + model load, .npy, manifest', embed_files_whole, total)):
      best, median = timed(fn, args.repeats)
      print(f'{name:<44}{best:>8.2f}{median:>10.2f}{seconds / best:>12.1f}x')
    best, median = timed(lambda: embed.Embedder(model_dir), args.repeats)
    print(f'{"of which: loading the SavedModel":<44}{best:>8.2f}{median:>10.2f}')


if __name__ == '__main__':
  main()

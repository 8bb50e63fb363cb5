"""Approach 3's candidate models on the same data: the 1D CNN against feature-level attention.

On the Transform output of a sample release's 150k set (bench/pipeline_throughput.py's
ingestion + Transform run, ``--transform-root``), each model is trained by its trainer
module's ``run_fn`` exactly as the TFX Trainer calls it (default epochs unless
``--epochs``), for each seed; the exported Keras model then scores every validation clip.
Printed per model and seed: validation accuracy with its standard error, training seconds;
then per seed the paired difference attention - CNN (same clips) with its standard error
(sd of the per-clip correctness difference / sqrt(n)), and the mean over seeds.

  .venv/bin/python bench/approach3_models.py --transform-root ROOT [--seeds 0,1]
      [--epochs N] [--models cnn1d,attention]
"""

import argparse
import glob
import os
import sys
import tempfile
import time
import types
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

# pylint: disable=wrong-import-position
import numpy as np

MODULES = {'cnn1d': 'envsound.components.trainer_cnn1d',
           'attention': 'envsound.components.trainer_attention',
           'cnn2d': 'envsound.components.trainer_cnn2d'}
TRANSFORM = 'Transform_150k'


def transform_output(root: Path, transform: str = TRANSFORM):
  graph = sorted(glob.glob(str(root / transform / 'transform_graph' / '*')))
  examples = sorted(glob.glob(str(root / transform / 'transformed_examples' / '*')))
  if not graph or not examples:
    sys.exit(f'no {transform} output under {root}')
  return graph[-1], os.path.join(examples[-1], 'Split-train', '*'), os.path.join(
      examples[-1], 'Split-eval', '*')


def shifted(x, shift: int):
  """The model inputs ``x`` with each clip's real frames rolled by ``shift`` frames, circularly
  within them (as model_layers.SpecAugment shifts in training); pad frames stay."""
  # pylint: disable=import-outside-toplevel
  from envsound.core import features
  mask = x[features.MASK_XF]
  frames = x[features.AUDIO_EMBEDDING_XF].reshape(len(mask), features.NUM_FRAMES, -1)
  pos = np.arange(features.NUM_FRAMES)[np.newaxis, :]
  real = np.maximum(mask.sum(axis=1, keepdims=True).astype(np.int64), 1)
  index = np.where(pos < real, np.mod(pos - shift, real), pos)
  rolled = np.take_along_axis(frames, index[:, :, np.newaxis], axis=1)
  return {**x, features.AUDIO_EMBEDDING_XF: rolled.reshape(len(mask), -1)}


def train(name, graph, train_files, seed, epochs, out, overrides=None, tag='',
          evaluation=None):
  """Trains with the module's run_fn (custom_config ``overrides`` laid over its defaults);
  returns (the exported model's directory, seconds)."""
  # pylint: disable=import-outside-toplevel
  import importlib
  import tf_keras
  from envsound.core.taxonomy import load_taxonomy
  module = importlib.import_module(MODULES[name])
  config = {'approach': name, 'model_name': name, 'class_names': list(load_taxonomy().names),
            'seed': seed}
  if epochs:
    config['epochs'] = epochs
  config.update(overrides or {})
  run = f'{name}{tag}-{seed}'
  serving = os.path.join(out, run, 'serving')
  fn_args = types.SimpleNamespace(
      train_files=[train_files], eval_files=[evaluation], transform_output=graph,
      transform_graph_path=graph, serving_model_dir=serving,
      model_run_dir=os.path.join(out, run, 'run'), custom_config=config,
      hyperparameters=None)
  tf_keras.backend.clear_session()
  start = time.perf_counter()
  module.run_fn(fn_args)
  return serving, time.perf_counter() - start


def score(serving, graph, evaluation, shifts=(0,)):
  """Per-clip correctness of the exported model on ``evaluation``, its probabilities averaged
  over copies of each clip shifted by each of ``shifts`` frames (:func:`shifted`)."""
  # pylint: disable=import-outside-toplevel
  import tensorflow_transform as tft
  import tf_keras
  from envsound.components import data
  x, y = data.to_numpy(evaluation, tft.TFTransformOutput(graph))
  model = tf_keras.models.load_model(serving, compile=False)
  probs = np.mean([model.predict(shifted(x, s) if s else x, batch_size=1024, verbose=0)
                   for s in shifts], axis=0)
  return (probs.argmax(1) == y).astype(np.float64)


def train_and_score(name, graph, train_files, evaluation, seed, epochs, out, overrides=None,
                    tag=''):
  """Trains (:func:`train`) and scores every clip of ``evaluation`` (:func:`score`); returns
  (per-clip correctness, seconds)."""
  serving, seconds = train(name, graph, train_files, seed, epochs, out, overrides, tag,
                           evaluation)
  return score(serving, graph, evaluation), seconds


def measure(names, seeds, train_one):
  """Runs ``train_one(name, seed, out_dir) -> (correctness, seconds)`` for every seed and
  name, printing each; returns ``{(name, seed): per-clip correctness}``."""
  correct = {}
  with tempfile.TemporaryDirectory() as out:
    for seed in seeds:
      for name in names:
        c, seconds = train_one(name, seed, out)
        correct[name, seed] = c
        se = np.sqrt(c.mean() * (1 - c.mean()) / len(c))
        print(f'  {name:12s} seed {seed}: accuracy {c.mean():.4f} +- {se:.4f} '
              f'({len(c)} clips scored), trained in {seconds:.0f} s', flush=True)
  return correct


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--transform-root', type=Path, required=True)
  parser.add_argument('--seeds', default='0')
  parser.add_argument('--epochs', type=int, default=None)
  parser.add_argument('--models', default='cnn1d,attention')
  args = parser.parse_args()
  graph, train, evaluation = transform_output(args.transform_root)
  names = args.models.split(',')
  seeds = [int(s) for s in args.seeds.split(',')]
  print(f'{os.cpu_count()} cores; models {names}; seeds {seeds}; epochs '
        f'{args.epochs or "default"}', flush=True)
  correct = measure(names, seeds, lambda name, seed, out: train_and_score(
      name, graph, train, evaluation, seed, args.epochs, out))
  if len(names) == 2:
    a, b = names[1], names[0]
    diffs = []
    for seed in seeds:
      d = correct[a, seed] - correct[b, seed]
      diffs.append(d.mean())
      print(f'  seed {seed}: {a} - {b} = {d.mean():+.4f} +- {d.std(ddof=1) / np.sqrt(len(d)):.4f}'
            ' (paired, same clips)')
    print(f'  mean over {len(seeds)} seed(s): {a} - {b} = {np.mean(diffs):+.4f}')
    for name in names:
      print(f'  {name}: mean accuracy {np.mean([correct[name, s].mean() for s in seeds]):.4f}')


if __name__ == '__main__':
  main()

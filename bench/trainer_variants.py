"""Trainer-module variants side by side on in-memory data: the module's model, loss and schedule.

For each Transform output (``--root NAME=PIPELINE_ROOT``: a root holding ``Transform_<set>``,
e.g. an ``envsound pipeline run`` of a sample release or bench/foreign_data.py's) the train and validation splits are loaded into memory once; every variant (``MODULE:key=value,
...``, custom_config overrides laid over the trainer module's defaults, e.g.
``cnn1d:pooling=attention``) is then built by the module's ``build_model``, compiled by
``training.compile_model`` (its optimiser, schedule and loss), fitted with the module's mixup
for its epochs, and scores every validation clip, for each seed. It skips what ``run_fn`` adds
around the fit (the model map, the export), so it runs in a fraction of a Trainer's time;
confirm a choice with a pipeline run. Printed per root and variant: accuracy per seed, the
mean with its binomial standard error, the last epoch's training accuracy, seconds and
parameters; from the second variant on, the paired difference to the first variant (same
clips and seeds) with the standard error of the per-clip difference.

  .venv/bin/python bench/trainer_variants.py --root sample=ROOT [--root foreign=ROOT2]
      [--set balanced] [--seeds 0,1] cnn1d: cnn1d:pooling=attention cnn2d:
"""

import argparse
import glob
import importlib
import os
import time

import benchlib  # pylint: disable=unused-import  (sys.path, TensorFlow's settings)
import numpy as np


def load(root: str, training_set: str):
  """``((train_x, train_y), (eval_x, eval_y))`` of ``root``'s latest Transform output."""
  # pylint: disable=import-outside-toplevel
  import tensorflow_transform as tft
  from envsound.components import data
  transform = os.path.join(root, f'Transform_{training_set}')
  graph = sorted(glob.glob(os.path.join(transform, 'transform_graph', '*')))[-1]
  examples = sorted(glob.glob(os.path.join(transform, 'transformed_examples', '*')))[-1]
  output = tft.TFTransformOutput(graph)
  return tuple(data.to_numpy(os.path.join(examples, f'Split-{split}', '*'), output)
               for split in ('train', 'eval'))


def parse_variant(spec: str):
  """``'cnn1d:filters=64,pooling=mean'`` -> ``('cnn1d', {'filters': 64, 'pooling': 'mean'})``."""
  module, _, rest = spec.partition(':')
  config = {}
  for pair in filter(None, rest.split(',')):
    key, value = pair.split('=')
    for cast in (int, float, {'True': True, 'False': False}.__getitem__):
      try:
        value = cast(value)
        break
      except (ValueError, KeyError):
        pass
    config[key] = value
  return module, config


def train_and_score(spec: str, seed: int, train, evaluation, num_classes: int):
  """Returns (per-clip correctness, last training accuracy, seconds, parameters)."""
  # pylint: disable=import-outside-toplevel
  import tensorflow as tf
  import tf_keras
  from envsound.components import data, training
  name, config = parse_variant(spec)
  module = importlib.import_module(f'envsound.components.trainer_{name}')
  hp = module.Hparams.from_custom_config({**config, 'seed': seed})
  tf_keras.backend.clear_session()
  tf_keras.utils.set_random_seed(seed)
  (x, y), (eval_x, eval_y) = train, evaluation
  ds = tf.data.Dataset.from_tensor_slices((x, tf.one_hot(y, num_classes))).shuffle(
      len(y), seed=seed, reshuffle_each_iteration=True).batch(hp.batch_size)
  if hp.mixup_alpha:
    ds = training.mixup(ds, hp.mixup_alpha, seed)
  model = module.build_model(hp, num_classes)
  training.compile_model(model, hp, data.class_counts(y, num_classes))
  start = time.perf_counter()
  history = model.fit(ds, epochs=hp.epochs, verbose=0)
  seconds = time.perf_counter() - start
  probs = model.predict(eval_x, batch_size=1024, verbose=0)
  return ((probs.argmax(1) == eval_y).astype(np.float64), history.history['accuracy'][-1],
          seconds, model.count_params())


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--root', action='append', required=True, help='NAME=PIPELINE_ROOT')
  parser.add_argument('--set', default='balanced', help='training set (Transform_<set>)')
  parser.add_argument('--seeds', default='0,1')
  parser.add_argument('variants', nargs='+')
  args = parser.parse_args()
  from envsound.core.taxonomy import load_taxonomy  # pylint: disable=import-outside-toplevel
  num_classes, seeds = len(load_taxonomy().names), [int(s) for s in args.seeds.split(',')]
  print(f'{os.cpu_count()} cores; seeds {seeds}; training set {args.set}', flush=True)
  for pair in args.root:
    name, root = pair.split('=', 1)
    train, evaluation = load(root, args.set)
    first = None
    for spec in args.variants:
      runs = [train_and_score(spec, seed, train, evaluation, num_classes) for seed in seeds]
      correct = [r[0] for r in runs]
      mean = float(np.mean([c.mean() for c in correct]))
      line = (f'{name} {spec}: ' + ' '.join(f'{c.mean():.4f}' for c in correct) +
              f'; mean {mean:.4f} +- {np.sqrt(mean * (1 - mean) / len(correct[0])):.4f} '
              f'({len(correct[0])} clips); train {runs[-1][1]:.3f}; '
              f'{np.mean([r[2] for r in runs]):.0f} s; {runs[0][3]:,} parameters')
      if first is None:
        first = correct
      else:
        d = np.concatenate([c - b for c, b in zip(correct, first)])
        line += f'; vs first {d.mean():+.4f} +- {d.std(ddof=1) / np.sqrt(len(d)):.4f} (paired)'
      print(line, flush=True)


if __name__ == '__main__':
  main()

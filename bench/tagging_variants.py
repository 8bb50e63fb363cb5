"""Trainer-module variants on AudioSet tagging (``--target audioset``), scored on held-out
training clips, with paired standard errors.

``--root`` is the pipeline root of an ``envsound pipeline run --target audioset`` (it holds
``Transform_<set>``). Its training split is loaded into memory and split once: a fifth of
the clips (a permutation seeded apart from the models) is held out and scored, the rest fit;
the eval split is never read, so choices made here are not tuned on it. Every variant
(``MODULE:key=value,...``: custom_config overrides over the module's defaults under the
audioset target, parsed as bench/trainer_variants.py parses them; ``prior_bias=False`` starts
the sigmoid layer at Keras' default initialisers instead of the label prior; ``loss_sum=True``
sums the binary cross-entropy over the classes instead of averaging it) is built by the
module's ``build_model`` with heads.for_target's sigmoid head, compiled by
``training.compile_model``, fitted (with the module's mixup) for its epochs and scores every
held-out clip, for each seed. The label prior and the linear reference
(tagging_reference.linear_scores on the mean and standard deviation of the transformed
frames) are scored on the same clips.

Printed per variant: the held-out mAP per seed and its mean, seconds and parameters; its
paired bootstrap difference (tagging_uncertainty, mean over seeds) to the first variant of
the same module (the current defaults) and to the linear reference, each with its standard
error.

  .venv/bin/python bench/tagging_variants.py --root runs/p20k [--set balanced] [--seeds 0]
      cnn1d: cnn1d:dropout=0 attention: cnn2d:
"""

import argparse
import glob
import importlib
import os
import time

import benchlib  # pylint: disable=unused-import  (sys.path, TensorFlow's settings)
import numpy as np
from trainer_variants import parse_variant

HOLDOUT_FRACTION = 0.2
SPLIT_SEED = 12345  # the held-out clips are the same whatever the models' seeds


def load_training_split(root: str, training_set: str):
  """``(inputs dict, multi-hot labels)`` of the training split of ``root``'s latest
  Transform output."""
  # pylint: disable=import-outside-toplevel
  import tensorflow_transform as tft
  from envsound.components import data
  from envsound.core import features
  transform = os.path.join(root, f'Transform_{training_set}')
  graph = sorted(glob.glob(os.path.join(transform, 'transform_graph', '*')))[-1]
  examples = sorted(glob.glob(os.path.join(transform, 'transformed_examples', '*')))[-1]
  columns = data.read_columns(os.path.join(examples, 'Split-train', '*'),
                              tft.TFTransformOutput(graph),
                              data.MODEL_INPUTS + (features.TAGS_XF,))
  return ({k: columns[k] for k in data.MODEL_INPUTS},
          columns[features.TAGS_XF].astype(np.int64))


def split(x, y):
  """``((fit x, fit y), (held-out x, held-out y))``."""
  order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
  cut = int(round(len(y) * HOLDOUT_FRACTION))
  part = lambda rows: ({k: v[rows] for k, v in x.items()}, y[rows])
  return part(np.sort(order[cut:])), part(np.sort(order[:cut]))


def pooled(x) -> np.ndarray:
  """Mean and standard deviation of each clip's real transformed frames ``[clips, 256]``."""
  # pylint: disable=import-outside-toplevel
  from envsound.core import features
  frames = x[features.AUDIO_EMBEDDING_XF].reshape(len(x[features.MASK_XF]), -1,
                                                  features.EMBEDDING_DIM)
  mask = x[features.MASK_XF][..., None]
  count = np.maximum(mask.sum(axis=1), 1)
  mean = (frames * mask).sum(axis=1) / count
  std = np.sqrt((((frames - mean[:, None]) ** 2) * mask).sum(axis=1) / count)
  return np.concatenate([mean, std], axis=1)


def train_and_score(spec: str, seed: int, fit, held_out):
  """Returns (held-out scores, seconds, parameters)."""
  # pylint: disable=import-outside-toplevel
  import tensorflow as tf
  import tf_keras
  from envsound.components import heads, training
  from envsound.core import targets
  name, config = parse_variant(spec)
  prior_bias = config.pop('prior_bias', True)
  loss_sum = config.pop('loss_sum', False)
  module = importlib.import_module(f'envsound.components.trainer_{name}')
  hp = module.Hparams.from_custom_config({**config, 'seed': seed,
                                          'target': targets.AUDIOSET.name})
  tf_keras.backend.clear_session()
  tf_keras.utils.set_random_seed(seed)
  (x, y), (held_x, _) = fit, held_out
  counts = y.sum(axis=0)
  ds = tf.data.Dataset.from_tensor_slices((x, y.astype(np.float32))).shuffle(
      len(y), seed=seed, reshuffle_each_iteration=True).batch(hp.batch_size)
  if hp.mixup_alpha:
    ds = training.mixup(ds, hp.mixup_alpha, seed)
  bias = heads.prior_log_odds(counts, len(y)) if prior_bias else None
  model = heads.for_target(module.build_model(hp, y.shape[1]), targets.AUDIOSET, bias,
                           hp.wide)
  training.compile_model(model, hp, counts, targets.AUDIOSET, len(y))
  if loss_sum:  # binary cross-entropy summed over the classes instead of averaged
    bce = tf_keras.losses.BinaryCrossentropy()
    classes = float(y.shape[1])
    model.compile(optimizer=model.optimizer, metrics=heads.multi_label_metrics(),
                  loss=lambda t, p: bce(t, p) * classes)
  start = time.perf_counter()
  model.fit(ds, epochs=hp.epochs, verbose=0)
  seconds = time.perf_counter() - start
  return model.predict(held_x, batch_size=1024, verbose=0), seconds, model.count_params()


def _difference(y, scores_a, scores_b) -> str:
  from envsound.components import tagging_uncertainty  # pylint: disable=import-outside-toplevel
  d = tagging_uncertainty.paired_map_difference(y, scores_a, scores_b)
  return f'{d.difference:+.4f} +- {d.standard_error:.4f}{" *" if d.beyond_two_se else ""}'


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--root', required=True, help='pipeline root of a --target audioset run')
  parser.add_argument('--set', default='balanced', help='training set (Transform_<set>)')
  parser.add_argument('--seeds', default='0')
  parser.add_argument('variants', nargs='+')
  args = parser.parse_args()
  # pylint: disable=import-outside-toplevel
  from envsound.components import multilabel_metrics, tagging_reference
  seeds = [int(s) for s in args.seeds.split(',')]
  fit, held_out = split(*load_training_split(args.root, args.set))
  y = held_out[1]
  print(f'{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; seeds {seeds}; training set '
        f'{args.set}: {len(fit[1]):,} clips fit, {len(y):,} held out '
        f'({int(y.any(axis=0).sum())} classes with a held-out positive)', flush=True)
  mean_ap = lambda s: multilabel_metrics.tagging_scores(y, s).mean_average_precision
  prior = np.tile(fit[1].mean(axis=0), (len(y), 1))
  linear, _ = tagging_reference.linear_scores(pooled(fit[0]), fit[1], pooled(held_out[0]))
  print(f'label prior: mAP {mean_ap(prior):.4f}', flush=True)
  print(f'linear reference: mAP {mean_ap(linear):.4f}', flush=True)
  firsts = {}
  for spec in args.variants:
    runs = [train_and_score(spec, seed, fit, held_out) for seed in seeds]
    scores = [r[0] for r in runs]
    maps = [mean_ap(s) for s in scores]
    line = (f'{spec}: mAP ' + ' '.join(f'{m:.4f}' for m in maps) +
            f'; mean {np.mean(maps):.4f}; {np.mean([r[1] for r in runs]):.0f} s; '
            f'{runs[0][2]:,} parameters; vs reference {_difference(y, scores, linear)}')
    module = parse_variant(spec)[0]
    if module in firsts:
      line += f'; vs {firsts[module][0]} {_difference(y, scores, firsts[module][1])}'
    else:
      firsts[module] = (spec, scores)
    print(line, flush=True)


if __name__ == '__main__':
  main()

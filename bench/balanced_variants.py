"""Variants of the balanced-set models, each measured against a baseline and the reference.

On the Transform output of a sample release's balanced set (``--root``: a pipeline root
holding ``ExampleGen_balanced`` and ``Transform_balanced``), each variant of a trainer
module (approach 1's ``trainer_cnn2d`` unless :func:`module_of` says otherwise) is trained
by its ``run_fn`` as the Trainer calls it, for each seed, and the exported model scores
every validation clip. A variant is custom_config overrides laid
over the module's defaults; ``old_defaults`` rebuilds the defaults before issue 15 (no
mixing convolution, max-pooling along time, flatten, dropout 0.5, mixup, frequency masks,
sqrt class weights) and ``seed`` the choices the seed shipped on top of them (constant
learning rate). Printed per variant and seed: accuracy with its standard error and
training seconds; then per variant its mean over seeds and the paired difference to
``--baseline`` (same clips); last, the reference (``reference.fit`` on the same ExampleGen
splits) and each variant's margin over it.

With ``--folds K`` nothing is scored on the validation split: the training split is cut
into K folds (by record position), each fold scored by a model trained on the others, so
every training clip is scored once; choose between variants this way, not on validation.
The reference is then fit and scored on the same folds (``reference.fit_model`` on the mean
and standard deviation of Transform's real frames), and each variant's difference to it is
paired. The variant ``cnn1d`` is approach 2's module at its defaults, as a yardstick, and
the ``cnn1d_*`` variants are overrides of it; ``attention`` is approach 3's model trained on
the balanced set (:func:`module_of`).
With ``--tta-shifts`` every model is also scored with its probabilities averaged over
time-shifted copies of each clip (printed as ``VARIANT+tta``; its baseline is VARIANT).

  .venv/bin/python bench/balanced_variants.py --root ROOT [--seeds 0,1] [--epochs N]
      [--variants old_defaults,defaults,...] [--baseline old_defaults] [--folds K]
      [--tta-shifts=-2,-1,0,1,2]
"""

import argparse
import glob
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
sys.path.insert(0, str(Path(__file__).resolve().parent))

# pylint: disable=wrong-import-position
import numpy as np

import approach3_models  # bench/: trains one module and scores its export

OLD_DEFAULTS = {'mixing_filters': 0, 'pool_frames': 2, 'time_pooling': 'flatten',
                'dropout': 0.5, 'mixup_alpha': 0.2, 'max_freq_mask': 16,
                'class_weighting': 'sqrt'}
SEED = {**OLD_DEFAULTS, 'batch_norm': False, 'weight_decay': 0.0, 'lr_schedule': 'constant',
        'warmup_epochs': 0, 'early_stopping': 0}
VARIANTS = {
    'old_defaults': OLD_DEFAULTS,
    'seed': SEED,
    'batch_norm': {**SEED, 'batch_norm': True},
    'weight_decay': {**SEED, 'weight_decay': 0.01},
    'cosine': {**SEED, 'lr_schedule': 'cosine', 'warmup_epochs': 1},
    'early_stop': {**SEED, 'early_stopping': 3, 'epochs': 20},
    'cosine_20': {**SEED, 'lr_schedule': 'cosine', 'warmup_epochs': 1, 'epochs': 20},
    'defaults': {},  # the module's current defaults
    'epochs_20': {'epochs': 20},
    'early_stop_30': {'early_stopping': 5, 'epochs': 30},
    'mixing_512': {'mixing_filters': 512},
    'mixing_3_frames': {'mixing_frames': 3},
    'filters_32': {'filters': 32},
    'dropout_0.5': {'dropout': 0.5},
    'label_smoothing': {'label_smoothing': 0.1},
    'ema_0.99': {'ema_momentum': 0.99},
    'ema_0.98': {'ema_momentum': 0.98},
    'mixing_spatial_dropout_0.2': {'mixing_dropout': 0.2},
    'mixing_dropout_0.2': {'mixing_dropout': 0.2, 'mixing_dropout_channels': False},
    'batch_32': {'batch_size': 32},
    'lr_x0.5': {'learning_rate': 5e-4},
    'lr_x2': {'learning_rate': 2e-3},
    'raw_channel': {'raw_channel': True},
    'mixing_bn': {'mixing_batch_norm': True},
    'post_mixing_1': {'post_mixing_layers': 1},
    'post_mixing_1_bn': {'post_mixing_layers': 1, 'mixing_batch_norm': True},
    'post_mixing_2_bn': {'post_mixing_layers': 2, 'mixing_batch_norm': True},
    'mixing_128': {'mixing_filters': 128},
    'filters_8': {'filters': 8},
    'mixing_bn_128': {'mixing_batch_norm': True, 'mixing_filters': 128},
    'mixing_bn_dropout_0.5': {'mixing_batch_norm': True, 'dropout': 0.5},
    'no_mixing_bn': {'mixing_batch_norm': False},  # the default again since 2026-12-03
    'kernel_5': {'kernel_frames': 5},
    'mixup_0.2': {'mixup_alpha': 0.2},
    'hidden_256': {'hidden': 256},
    'shift_4': {'max_shift': 4},
    'wide': {'wide': True},
    'linear_rows': {'row_wise_relu': False},  # the default since 2026-12-03
    'row_wise_relu': {'row_wise_relu': True},
    'kernel_1': {'kernel_frames': 1},
    'cnn1d': {},  # approach 2's 1D CNN at its defaults (module_of), as a yardstick
    'kernel_rows_3': {'kernel_rows': 3},
    'pool_attention': {'time_pooling': 'attention'},
    'pool_meanmax': {'time_pooling': 'meanmax'},
    'wide_dropout_0.5': {'wide': True, 'dropout': 0.5},
    # Approach 2's module (every variant named cnn1d*), measured on the same folds:
    'cnn1d_no_bn': {'batch_norm': False},
    'cnn1d_k5_1': {'conv_layers': 1, 'kernel_size': 5},
    'cnn1d_k5_1_no_bn': {'conv_layers': 1, 'kernel_size': 5, 'batch_norm': False},
    'cnn1d_linear_first': {'linear_first': True},
    'cnn1d_linear_first_no_bn': {'linear_first': True, 'batch_norm': False},
    'cnn1d_input_dropout_0': {'input_dropout': 0.0},
    'cnn1d_512': {'filters': 512},
    'cnn1d_k5_1_512': {'conv_layers': 1, 'kernel_size': 5, 'filters': 512},
    'cnn1d_dropout_0.5': {'dropout': 0.5},
    'cnn1d_label_smoothing': {'label_smoothing': 0.1},
    'cnn1d_shift_4': {'max_shift': 4},
    'cnn1d_epochs_20': {'epochs': 20},
    # Approach 3's attention module (every variant named attention*), on the balanced folds:
    'attention': {},
    'cnn1d_feature_attention': {'pooling': 'feature_attention'},
    'cnn1d_ema_0.99': {'ema_momentum': 0.99},
}


def module_of(variant: str) -> str:
  """The trainer module a variant trains: cnn1d or attention for the names starting so, else
  cnn2d."""
  return next((m for m in ('cnn1d', 'attention') if variant.startswith(m)), 'cnn2d')


def fold_files(train: str, folds: int, out: str):
  """Writes the records of ``train`` into ``folds`` gzip files by position (record i goes to
  fold i mod folds); returns their paths."""
  # pylint: disable=import-outside-toplevel
  import tensorflow as tf
  paths = [os.path.join(out, f'fold-{i}.gz') for i in range(folds)]
  writers = [tf.io.TFRecordWriter(p, options='GZIP') for p in paths]
  records = tf.data.TFRecordDataset(sorted(glob.glob(train)), compression_type='GZIP')
  for i, record in enumerate(records.as_numpy_iterator()):
    writers[i % folds].write(record)
  for w in writers:
    w.close()
  return paths


def cross_validated(graph, train, folds: int, overrides, seed, epochs, out, name, scorings):
  """Per-clip correctness of every training clip, scored by the model trained without its
  fold, once per entry of ``scorings`` (approach3_models.score's shifts); returns
  ({shifts: correctness}, seconds)."""
  files = fold_files(train, folds, out)
  correct, seconds = {s: [] for s in scorings}, 0.0
  for i, held_out in enumerate(files):
    rest = os.path.join(out, f'rest-{i}')
    os.makedirs(rest, exist_ok=True)
    for j, f in enumerate(files):
      if j != i:
        os.link(f, os.path.join(rest, os.path.basename(f)))
    serving, s = approach3_models.train(module_of(name), graph,
                                        os.path.join(rest, '*'), seed, epochs, out, overrides,
                                        f'-{name}-f{i}', held_out)
    for shifts in scorings:
      correct[shifts].append(approach3_models.score(serving, graph, held_out, shifts))
    seconds += s
  return {k: np.concatenate(v) for k, v in correct.items()}, seconds


def reference_cross_validated(graph, train, folds: int, out):
  """Per-clip correctness of the reference (reference.fit_model on the pooled real frames of
  Transform's output) on the same fold hold-outs as :func:`cross_validated`, in its order."""
  # pylint: disable=import-outside-toplevel
  import tensorflow_transform as tft
  from envsound.components import data, reference
  from envsound.core import features
  tft_output = tft.TFTransformOutput(graph)
  pooled = []
  for path in fold_files(train, folds, out):
    x, y = data.to_numpy(path, tft_output)
    frames = x[features.AUDIO_EMBEDDING_XF].reshape(len(y), features.NUM_FRAMES, -1)
    pooled.append((reference.pool_frames(frames, x[features.MASK_XF].sum(axis=1)), y))
  correct = []
  for i, (x_held, y_held) in enumerate(pooled):
    rest = [p for j, p in enumerate(pooled) if j != i]
    model = reference.fit_model(np.concatenate([x for x, _ in rest]),
                                np.concatenate([y for _, y in rest]))
    correct.append((model.predict(x_held) == y_held).astype(np.float64))
  return np.concatenate(correct)


def reference_accuracy(root: Path):
  """The reference's validation correctness per clip on the balanced ExampleGen splits."""
  # pylint: disable=import-outside-toplevel
  from envsound.components import reference
  from envsound.core.taxonomy import load_taxonomy
  uri = sorted(glob.glob(str(root / 'ExampleGen_balanced' / 'examples' / '*')))[-1]
  result = reference.fit(*reference.read_pooled(uri, 'train'), *reference.read_pooled(uri, 'eval'),
                         len(load_taxonomy().names))
  return result.accuracy, result.eval_clips, result.c


def paired(differences) -> str:
  """Mean +- standard error of each per-clip difference array, comma-separated."""
  return ', '.join(f'{d.mean():+.4f} +- {d.std(ddof=1) / np.sqrt(len(d)):.4f}'
                   for d in differences)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--root', type=Path, required=True)
  parser.add_argument('--seeds', default='0,1')
  parser.add_argument('--epochs', type=int, default=None)
  parser.add_argument('--variants', default='old_defaults,defaults')
  parser.add_argument('--baseline', default='old_defaults')
  parser.add_argument('--folds', type=int, default=0)
  parser.add_argument('--tta-shifts', default='',
                      help='also score each variant (as VARIANT+tta) with its probabilities '
                      'averaged over copies shifted by these frames (--tta-shifts=-2,-1,0,1,2)')
  args = parser.parse_args()
  graph, train, evaluation = approach3_models.transform_output(args.root, 'Transform_balanced')
  names, seeds = args.variants.split(','), [int(s) for s in args.seeds.split(',')]
  tta = tuple(int(s) for s in args.tta_shifts.split(',')) if args.tta_shifts else None
  scorings = [(0,)] + ([tta] if tta else [])
  if tta:
    names = [n for name in names for n in (name, f'{name}+tta')]
  later = {}  # (name+tta, seed) -> (correctness, 0 s): scored with the model of name
  scored = f'{args.folds}-fold hold-outs of the training split' if args.folds else 'validation'
  print(f'{os.cpu_count()} cores; variants {names}; seeds {seeds}; epochs '
        f'{args.epochs or "default"}; scored on {scored}', flush=True)

  def train_one(name, seed, out):
    if (name, seed) in later:
      return later.pop((name, seed))
    if args.folds:
      work = os.path.join(out, f'{name}-{seed}')
      os.makedirs(work)
      correct, seconds = cross_validated(graph, train, args.folds, VARIANTS[name], seed,
                                         args.epochs, work, name, scorings)
    else:
      serving, seconds = approach3_models.train(module_of(name), graph, train,
                                                seed, args.epochs, out, VARIANTS[name],
                                                f'-{name}', evaluation)
      correct = {s: approach3_models.score(serving, graph, evaluation, s) for s in scorings}
    if tta:
      later[f'{name}+tta', seed] = correct[tta], 0.0
    return correct[(0,)], seconds

  correct = approach3_models.measure(names, seeds, train_one)
  if args.folds:
    with tempfile.TemporaryDirectory() as out:
      ref_correct = reference_cross_validated(graph, train, args.folds, out)
    ref = ref_correct.mean()
    print(f'reference: accuracy {ref:.4f} +- {np.sqrt(ref * (1 - ref) / len(ref_correct)):.4f} '
          f'on the same hold-outs ({len(ref_correct)} clips)')
  else:
    ref, n, c_value = reference_accuracy(args.root)
    ref_se = np.sqrt(ref * (1 - ref) / n)
    print(f'reference: accuracy {ref:.4f} +- {ref_se:.4f} (C {c_value:g}, {n} clips)')
  for name in names:
    mean = np.mean([correct[name, s].mean() for s in seeds])
    line = f'  {name:12s}: mean accuracy {mean:.4f}, vs reference {mean - ref:+.4f}'
    if args.folds:
      line += f' (paired, per seed {paired([correct[name, s] - ref_correct for s in seeds])})'
    base = name[:-len('+tta')] if name.endswith('+tta') else args.baseline
    if name != base and base in names:
      line += (f'; vs {base} (paired, per seed) '
               f'{paired([correct[name, s] - correct[base, s] for s in seeds])}')
    print(line, flush=True)


if __name__ == '__main__':
  main()

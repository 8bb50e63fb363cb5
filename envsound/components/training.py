"""The training loop both Trainer modules share: data, loss, fit, logs, export.

A trainer module supplies its ``Hparams`` (a subclass of :class:`TrainerHparams`) and a
``build_model(hp, num_classes)``; :func:`train_and_export` does the rest in the order of
TFX's penguin example: Transform output -> datasets -> model (with the head of the target,
``custom_config['target']``, heads.py; a multi-label head starts at the training split's
label prior) -> fit (TensorBoard, history JSON in ``fn_args.model_run_dir``) -> the model's
map on the validation split (model_map.py; separation figures in ``fn_args.model_run_dir``)
-> SavedModel with signatures.py's signatures, ``map_xy`` and ``reference_map`` included.
"""

import dataclasses
import json
import logging
import os
import time
from typing import Any, Callable, Mapping, Optional

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras

from envsound.components import (data, early_stopping, epoch_progress, heads, losses,
                                 model_map, optimizers, projection, signatures)
from envsound.core import targets, warmup

HISTORY_FILE = 'history.json'
# custom_config keys that describe the run rather than set a hyper-parameter.
META_KEYS = ('approach', 'model_name', 'class_names', 'target', 'code_version')


@dataclasses.dataclass(frozen=True)
class TrainerHparams:
  """Hyper-parameters every trainer has (custom_config keys of the same names).

  Attributes:
    epochs: passes over the training split.
    batch_size: examples per step.
    learning_rate: Adam learning rate.
    dropout: dropout before and after the penultimate layer.
    hidden: width of the penultimate (embedding) layer.
    class_weighting: 'none', 'sqrt' or 'balanced' (losses.class_weights).
    focal_gamma: focal-loss gamma; 0 is cross-entropy.
    mixup_alpha: Beta(alpha, alpha) mixup of training batches; 0 turns it off.
    label_smoothing: training targets move this share of their mass evenly over the
      classes (single-label targets only); 0 turns it off.
    weight_decay: AdamW's decoupled weight decay; 0 is plain Adam.
    ema_momentum: 0 is off; else the optimiser keeps an exponential moving average of the
      weights with this momentum per step (tf_keras' ``use_ema``) and fit ends by swapping
      it in, so the exported model has the averaged weights. The average starts at the
      initial weights without bias correction: after n steps they keep momentum ** n of it
      (0.99 ** 170 = 0.18), so short runs export weights close to the initial ones.
    lr_schedule: 'constant' or 'cosine' (linear warm-up, then cosine decay to 0).
    warmup_epochs: warm-up length of the cosine schedule.
    early_stopping: 0 is off; else training stops after this many epochs without a
      better accuracy on a held-out fifth of the training split (data.holdout_datasets,
      which then fits on the other four fifths) and keeps the best epoch's weights.
    seed: random seed (weights, shuffling, augmentation, the map's UMAP and projection).
    map_reference: at most this many validation clips (a stratified sample) are the
      reference points of the exported map.
    wide: the output logits also get a linear map of the input frames' pooled mean and
      standard deviation (heads.wide_logits).
  """
  epochs: int = 10
  batch_size: int = 64
  learning_rate: float = 1e-3
  dropout: float = 0.3
  hidden: int = 128
  class_weighting: str = 'sqrt'
  focal_gamma: float = 0.0
  mixup_alpha: float = 0.0
  label_smoothing: float = 0.0
  weight_decay: float = 0.0
  ema_momentum: float = 0.0
  lr_schedule: str = 'constant'
  warmup_epochs: int = 0
  early_stopping: int = 0
  seed: int = 0
  map_reference: int = projection.MAX_REFERENCE
  wide: bool = False

  @classmethod
  def from_custom_config(cls, custom_config: Optional[Mapping[str, Any]]):
    """Builds hyper-parameters from a Trainer custom_config.

    Keys this trainer does not know are logged and ignored: pipeline-wide overrides reach
    every trainer, and each uses only its own. The target that ``'target'`` names (default:
    the environment) may replace some of the module's defaults (targets.Target's
    ``trainer_defaults``); custom_config's values override both.

    Raises:
      ValueError: a known key has an invalid value.
    """
    config = dict(custom_config or {})
    target = targets.by_name(config.get('target', targets.DEFAULT))
    config = {**dict(target.trainer_defaults), **config}
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(config) - names - set(META_KEYS))
    if unknown:
      logging.warning('%s ignores custom_config keys %s (known: %s)', cls.__module__, unknown,
                      sorted(names))
    hp = cls(**{k: v for k, v in config.items() if k in names})
    losses.class_weights([1], hp.class_weighting)  # validates the name
    optimizers.check(hp.lr_schedule, hp.weight_decay, hp.warmup_epochs, hp.ema_momentum)
    if hp.map_reference < 1:
      raise ValueError(f'map_reference must be at least 1, got {hp.map_reference}')
    return hp


def mixup(ds: tf.data.Dataset, alpha: float, seed: int) -> tf.data.Dataset:
  """Blends each batch with a shuffled copy of itself (Zhang et al. 2018); labels one-hot."""
  def blend(x, y):
    n = tf.shape(y)[0]
    g1 = tf.random.gamma([n], alpha, seed=seed)
    g2 = tf.random.gamma([n], alpha, seed=seed + 1)
    lam = g1 / (g1 + g2)
    lam = tf.maximum(lam, 1.0 - lam)  # keep the original clip dominant
    perm = tf.random.shuffle(tf.range(n), seed=seed)
    mix = lambda a: (lam[:, None] * a + (1.0 - lam[:, None]) * tf.gather(a, perm))
    return {k: mix(v) for k, v in x.items()}, mix(y)
  return ds.map(blend, num_parallel_calls=tf.data.AUTOTUNE)


def smooth_labels(ds: tf.data.Dataset, share: float) -> tf.data.Dataset:
  """Moves ``share`` of each one-hot label's mass evenly over all classes (Szegedy et al.
  2016's label smoothing)."""
  def smooth(x, y):
    return x, y * (1.0 - share) + share / tf.cast(tf.shape(y)[-1], y.dtype)
  return ds.map(smooth, num_parallel_calls=tf.data.AUTOTUNE)


class ExamplesPerSecond(tf_keras.callbacks.Callback):
  """Records training examples per second of each epoch into the logs."""

  def __init__(self, num_examples: int):
    super().__init__()
    self.num_examples = num_examples
    self._start = 0.0

  def on_epoch_begin(self, epoch, logs=None):
    self._start = time.perf_counter()

  def on_epoch_end(self, epoch, logs=None):
    if logs is not None:
      logs['examples_per_second'] = self.num_examples / (time.perf_counter() - self._start)


def compile_model(model: tf_keras.Model, hp: TrainerHparams, class_counts: np.ndarray,
                  target: targets.Target = targets.ENVIRONMENT, num_examples: int = 0) -> None:
  """Compiles with Adam or AdamW on hp's schedule (optimizers.py) and the target's loss:
  the (focal, class-weighted) cross-entropy and top-class accuracy, or for a multi-label
  target binary cross-entropy and class-averaged AUCs (heads.py). ``num_examples``: the
  training clips (default: the sum of ``class_counts``, one label per clip)."""
  examples = num_examples or int(np.sum(class_counts))
  if target.multi_label:
    loss, metrics = heads.multi_label_loss(hp), heads.multi_label_metrics()
  else:
    loss = losses.FocalCrossEntropy(hp.focal_gamma,
                                    losses.class_weights(class_counts, hp.class_weighting))
    metrics = [tf_keras.metrics.CategoricalAccuracy(name='accuracy')]
  model.compile(optimizer=optimizers.optimizer(hp, examples), loss=loss, metrics=metrics)


def train_and_export(fn_args, hp: TrainerHparams,
                     build_model: Callable[[Any, int], tf_keras.Model]) -> tf_keras.callbacks.History:
  """Trains ``build_model(hp, num_classes)`` on Transform's output and exports it.

  Args:
    fn_args: TFX Trainer FnArgs (train/eval files, transform output, model dirs,
      custom_config with 'class_names').
    hp: parsed hyper-parameters.
    build_model: returns an uncompiled Keras model on the transformed features.

  Returns:
    The Keras History.
  """
  class_names = [str(c) for c in fn_args.custom_config['class_names']]
  num_classes = len(class_names)
  target = targets.by_name(fn_args.custom_config.get('target', targets.DEFAULT))
  tf_keras.utils.set_random_seed(hp.seed)
  tft_output = tft.TFTransformOutput(fn_args.transform_output)

  one_hot = heads.label_encoder(target, num_classes)
  extra_callbacks = []
  if target.multi_label:
    if hp.early_stopping:
      raise ValueError('early_stopping monitors accuracy; the multi-label target has none')
    train = data.input_fn(fn_args.train_files, tft_output, hp.batch_size, seed=hp.seed,
                          label_key=target.label_key)
    labels = data.read_columns(fn_args.train_files, tft_output,
                               (target.label_key,))[target.label_key]
  elif hp.early_stopping:
    train, holdout, labels = data.holdout_datasets(fn_args.train_files, tft_output,
                                                   hp.batch_size, hp.seed)
    extra_callbacks = early_stopping.callbacks(holdout.map(one_hot), hp.early_stopping)
  else:
    train = data.input_fn(fn_args.train_files, tft_output, hp.batch_size, seed=hp.seed)
    labels = data.read_labels(fn_args.train_files, tft_output)
  counts = (labels.sum(axis=0).astype(np.int64) if target.multi_label
            else data.class_counts(labels, num_classes))
  train = train.map(one_hot)
  if hp.label_smoothing and not target.multi_label:
    train = smooth_labels(train, hp.label_smoothing)
  if hp.mixup_alpha:
    train = mixup(train, hp.mixup_alpha, hp.seed)
  evaluation = data.input_fn(fn_args.eval_files, tft_output, hp.batch_size, shuffle=False,
                             label_key=target.label_key)
  evaluation = evaluation.map(one_hot)

  bias = heads.prior_log_odds(counts, len(labels)) if target.multi_label else None
  model = heads.for_target(build_model(hp, num_classes), target, bias, hp.wide)
  compile_model(model, hp, counts, target, len(labels))
  callbacks = [ExamplesPerSecond(len(labels)), *extra_callbacks,
               epoch_progress.EpochProgress(hp.epochs),
               tf_keras.callbacks.TensorBoard(fn_args.model_run_dir, update_freq='epoch')]
  history = model.fit(train, validation_data=evaluation, epochs=hp.epochs,
                      callbacks=callbacks, verbose=2)

  record = {'history': {k: [float(v) for v in vs] for k, vs in history.history.items()},
            'hparams': dataclasses.asdict(hp), 'class_names': class_names,
            'train_class_counts': counts.tolist()}
  tf.io.gfile.makedirs(fn_args.model_run_dir)
  with tf.io.gfile.GFile(os.path.join(fn_args.model_run_dir, HISTORY_FILE), 'w') as f:
    json.dump(record, f, indent=1)

  # The map's reference clips are named by environment, whatever the model's classes.
  fitted = model_map.fit_model_map(
      model, fn_args.eval_files, tft_output,
      targets.ENVIRONMENT.class_names() if target.multi_label else class_names, hp.seed,
      hp.map_reference)
  model_map.write_separation(fitted, fn_args.model_run_dir)
  signatures.save_model(model, fn_args.serving_model_dir, tft_output, class_names,
                        fitted.projection, fitted.reference)
  warmup.write_warmup_requests(fn_args.serving_model_dir)
  return history

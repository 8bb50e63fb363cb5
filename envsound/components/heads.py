"""The output layer, loss and Keras metrics a target (core/targets.py) asks of every trainer.

Trainer modules build their models with the softmax head of ``model_layers.classifier_head``;
:func:`for_target` gives a multi-label target a sigmoid layer of the same name in its place
(same input: the dropout after the penultimate layer), so no architecture knows the target.
Given the training split's label counts it starts at the label prior: a zero kernel and each
class's log-odds as bias, so a fresh model outputs every class's training frequency (without
it the 527 sigmoids began at 0.5 and the models collapsed to predicting the prior, 0.003 mAP).
With ``wide`` (TrainerHparams.wide) the logits also get a linear map of the input frames'
pooled statistics (Cheng et al. 2016's wide & deep): the linear reference's features, learnt
beside the architecture's own path.
"""

import logging
from typing import List, Optional, Sequence

import numpy as np
import tensorflow as tf
import tf_keras

from envsound.components import model_layers
from envsound.core import features, targets

OUTPUT_LAYER = 'probabilities'  # model_layers.classifier_head's output layer
WIDE_LAYER = 'wide_logits'      # the wide path's linear map


def prior_log_odds(positives: Sequence[float], clips: int) -> np.ndarray:
  """float32 ``log(p / (1 - p))`` of each class's training frequency ``p = positives / clips``,
  ``p`` clipped to half a clip from 0 and 1 (a class without positives gets a finite bias).

  Raises:
    ValueError: ``clips`` is below 1.
  """
  if clips < 1:
    raise ValueError(f'the label prior needs training clips, got {clips}')
  floor = 0.5 / clips
  p = np.clip(np.asarray(positives, np.float64) / clips, floor, 1.0 - floor)
  return np.log(p / (1.0 - p)).astype(np.float32)


def for_target(model: tf_keras.Model, target: targets.Target,
               bias: Optional[Sequence[float]] = None, wide: bool = False) -> tf_keras.Model:
  """``model`` with the target's output activation (the same model for softmax without
  ``wide``).

  ``bias``: the sigmoid layer's initial bias, one per class (:func:`prior_log_odds`); with
  it the kernel starts at zero, so the fresh model outputs ``sigmoid(bias)`` for every clip.
  None: Keras' default initialisers. ``wide``: the output layer's logits are the sum of the
  architecture's (a Dense layer on the head's input) and :func:`wide_logits`'s, which start
  at zero, so a fresh model outputs what it would without them.

  Raises:
    ValueError: the model has no Dense output layer named OUTPUT_LAYER, or ``bias`` does
      not have one value per class.
  """
  if target.activation == 'softmax' and not wide:
    return model
  head = model.get_layer(OUTPUT_LAYER)
  if not isinstance(head, tf_keras.layers.Dense):
    raise ValueError(f'{model.name}: its {OUTPUT_LAYER!r} layer is not Dense')
  initial = {}
  if bias is not None:
    bias = np.asarray(bias, np.float32)
    if bias.shape != (head.units,):
      raise ValueError(f'{model.name}: {head.units} classes but an initial bias of shape '
                       f'{bias.shape}')
    initial = {'kernel_initializer': 'zeros',
               'bias_initializer': tf_keras.initializers.Constant(bias.tolist())}
  if not wide:
    outputs = tf_keras.layers.Dense(head.units, activation=target.activation,
                                    name=OUTPUT_LAYER, **initial)(head.input)
    return tf_keras.Model(model.inputs, outputs, name=model.name)
  logits = tf_keras.layers.Add()([tf_keras.layers.Dense(head.units, **initial)(head.input),
                                  wide_logits(model, head.units)])
  outputs = tf_keras.layers.Activation(target.activation, name=OUTPUT_LAYER)(logits)
  return tf_keras.Model(model.inputs, outputs, name=model.name)


def wide_logits(model: tf_keras.Model, num_classes: int):
  """A zero-initialised linear map (no bias) of the batch-normalised mean and standard
  deviation of ``model``'s real input frames, ``[batch, num_classes]``."""
  named = {t.name.split(':')[0]: t for t in model.inputs}
  frames = tf_keras.layers.Reshape([features.NUM_FRAMES, features.EMBEDDING_DIM])(
      named[features.AUDIO_EMBEDDING_XF])
  stats = model_layers.MaskedPooling('meanstd')(frames, named[features.MASK_XF])
  stats = tf_keras.layers.BatchNormalization()(stats)
  return tf_keras.layers.Dense(num_classes, use_bias=False, kernel_initializer='zeros',
                               name=WIDE_LAYER)(stats)


def multi_label_loss(hp) -> tf_keras.losses.Loss:
  """Binary cross-entropy; the environment target's class weighting and focal gamma do not
  apply to it (logged when set)."""
  if hp.focal_gamma or hp.class_weighting != 'none':
    logging.info('multi-label target: plain binary cross-entropy (class_weighting %r and '
                 'focal_gamma %s are for single-label targets)', hp.class_weighting,
                 hp.focal_gamma)
  return tf_keras.losses.BinaryCrossentropy(name='binary_crossentropy')


def multi_label_metrics() -> List[tf_keras.metrics.Metric]:
  """Mean over classes of ROC AUC and of PR AUC (Keras' interpolated average precision),
  logged per epoch; the eval-split figures the gate and report use come from
  multilabel_metrics on the exported model."""
  return [tf_keras.metrics.AUC(multi_label=True, name='auc'),
          tf_keras.metrics.AUC(curve='PR', multi_label=True, name='pr_auc')]


def label_encoder(target: targets.Target, num_classes: int):
  """Maps ``(features, label)`` batches to the loss's label form: one-hot for single-label,
  the multi-hot vector as it is for multi-label."""
  if target.multi_label:
    return lambda x, y: (x, y)
  return lambda x, y: (x, tf.one_hot(y, num_classes))

"""The output layer, loss and Keras metrics a target (core/targets.py) asks of every trainer.

Trainer modules build their models with the softmax head of ``model_layers.classifier_head``;
:func:`for_target` gives a multi-label target a sigmoid layer of the same name in its place
(same input: the dropout after the penultimate layer), so no architecture knows the target.
"""

import logging
from typing import List

import tensorflow as tf
import tf_keras

from envsound.core import targets

OUTPUT_LAYER = 'probabilities'  # model_layers.classifier_head's output layer


def for_target(model: tf_keras.Model, target: targets.Target) -> tf_keras.Model:
  """``model`` with the target's output activation (the same model for softmax).

  Raises:
    ValueError: the model has no Dense output layer named OUTPUT_LAYER.
  """
  if target.activation == 'softmax':
    return model
  head = model.get_layer(OUTPUT_LAYER)
  if not isinstance(head, tf_keras.layers.Dense):
    raise ValueError(f'{model.name}: its {OUTPUT_LAYER!r} layer is not Dense')
  outputs = tf_keras.layers.Dense(head.units, activation=target.activation,
                                  name=OUTPUT_LAYER)(head.input)
  return tf_keras.Model(model.inputs, outputs, name=model.name)


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

"""Losses for imbalanced environments: class weights and focal loss (seed limitation 1).

Labels are one-hot (or mixup-blended) ``[batch, classes]`` so one loss covers plain,
class-weighted and focal cross-entropy, with soft targets.
"""

from typing import Optional, Sequence

import numpy as np
import tensorflow as tf
import tf_keras

CLASS_WEIGHTINGS = ('none', 'sqrt', 'balanced')


def class_weights(counts: Sequence[int], weighting: str) -> np.ndarray:
  """Per-class loss weights from training-set class counts, mean weight 1 over examples.

  Args:
    counts: examples per class.
    weighting: 'none' (all 1), 'balanced' (inverse frequency) or 'sqrt' (inverse square
      root of frequency, a milder correction).

  Returns:
    float32 ``[classes]``; classes without examples get weight 0.
  """
  if weighting not in CLASS_WEIGHTINGS:
    raise ValueError(f'class weighting must be one of {CLASS_WEIGHTINGS}, got {weighting!r}')
  counts = np.asarray(counts, dtype=np.float64)
  present = counts > 0
  power = {'none': 0.0, 'sqrt': 0.5, 'balanced': 1.0}[weighting]
  weights = np.where(present, np.maximum(counts, 1.0) ** -power, 0.0)
  # Normalise so the average weight over training examples is 1 (learning rate unchanged).
  weights *= counts.sum() / max((weights * counts).sum(), 1e-12)
  return weights.astype(np.float32)


@tf_keras.saving.register_keras_serializable('envsound')
class FocalCrossEntropy(tf_keras.losses.Loss):
  """Class-weighted focal cross-entropy on probabilities (Lin et al. 2017).

  ``-sum_c w_c * y_c * (1 - p_c)^gamma * log p_c``; gamma 0 and unit weights give plain
  categorical cross-entropy.
  """

  def __init__(self, gamma: float = 0.0, weights: Optional[Sequence[float]] = None,
               name: str = 'focal_cross_entropy', **kwargs):
    super().__init__(name=name, **kwargs)
    self.gamma = float(gamma)
    self.weights = None if weights is None else [float(w) for w in weights]

  def call(self, y_true, y_pred):
    y_true = tf.cast(y_true, y_pred.dtype)
    p = tf.clip_by_value(y_pred, 1e-7, 1.0 - 1e-7)
    per_class = -y_true * tf.math.log(p)
    if self.gamma:
      per_class *= tf.pow(1.0 - p, self.gamma)
    if self.weights is not None:
      per_class *= tf.constant(self.weights, dtype=y_pred.dtype)
    return tf.reduce_sum(per_class, axis=-1)

  def get_config(self):
    return {**super().get_config(), 'gamma': self.gamma, 'weights': self.weights}

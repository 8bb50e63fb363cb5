"""Keras layers shared by the trainers: inputs, SpecAugment-style augmentation, pooling.

Plain TensorFlow ops only (no Python or stateful-RNG ops that TF Serving lacks).
"""

from typing import Dict, Tuple

import tensorflow as tf
import tf_keras

from envsound.core import features

PENULTIMATE_LAYER = 'penultimate'


def model_inputs() -> Tuple[Dict[str, tf_keras.Input], tf.Tensor, tf.Tensor]:
  """Keras inputs for the transformed features.

  Returns:
    ``(inputs, frames, mask)``: the input dict (``AUDIO_EMBEDDING_XF``, ``MASK_XF``), the
    embedding as ``[batch, NUM_FRAMES, EMBEDDING_DIM]`` with pad frames zeroed (whatever
    they held, they carry no signal) and the mask ``[batch, NUM_FRAMES]`` (1 on real frames,
    which come first).
  """
  inputs = {
      features.AUDIO_EMBEDDING_XF: tf_keras.Input(
          [features.NUM_FRAMES * features.EMBEDDING_DIM], name=features.AUDIO_EMBEDDING_XF),
      features.MASK_XF: tf_keras.Input([features.NUM_FRAMES], name=features.MASK_XF),
  }
  frames = tf_keras.layers.Reshape([features.NUM_FRAMES, features.EMBEDDING_DIM])(
      inputs[features.AUDIO_EMBEDDING_XF])
  mask = inputs[features.MASK_XF]
  return inputs, frames * mask[:, :, tf.newaxis], mask


def pool_mask(mask: tf.Tensor, pool_frames: int) -> tf.Tensor:
  """The ``[batch, frames]`` mask max-pooled along time as ``MaxPooling2D((1, pool_frames),
  padding='same')`` pools the frames: a pooled step is real when any frame in it is."""
  if pool_frames <= 1:
    return mask
  return tf.nn.max_pool1d(mask[:, :, tf.newaxis], pool_frames, pool_frames, 'SAME')[:, :, 0]


def classifier_head(x, num_classes: int, hidden: int, dropout: float):
  """Dense penultimate layer (named PENULTIMATE_LAYER, exported for UMAP) + softmax."""
  x = tf_keras.layers.Dropout(dropout)(x)
  x = tf_keras.layers.Dense(hidden, activation='relu', name=PENULTIMATE_LAYER)(x)
  x = tf_keras.layers.Dropout(dropout)(x)
  return tf_keras.layers.Dense(num_classes, activation='softmax', name='probabilities')(x)


def temporal_block(x, filters: int, kernel_size: int, dilation: int = 1, dropout: float = 0.0,
                   residual: bool = False, batch_norm: bool = True, relu: bool = True):
  """Conv1D over time -> batch norm (the convolution then has no bias) -> ReLU -> dropout,
  optionally residual; ``batch_norm`` and ``relu`` False leave those steps out.

  A residual block adds its input (through a 1x1 convolution when the widths differ) before
  the ReLU, as in He et al. 2016's blocks.
  """
  y = tf_keras.layers.Conv1D(filters, kernel_size, padding='same', dilation_rate=dilation,
                             use_bias=not batch_norm)(x)
  if batch_norm:
    y = tf_keras.layers.BatchNormalization()(y)
  if residual:
    skip = x if x.shape[-1] == filters else tf_keras.layers.Conv1D(filters, 1)(x)
    y = tf_keras.layers.Add()([y, skip])
  if relu:
    y = tf_keras.layers.Activation('relu')(y)
  return tf_keras.layers.Dropout(dropout)(y) if dropout else y


def _band(batch: tf.Tensor, length: int, max_width: int) -> tf.Tensor:
  """float32 ``[batch, length]``: 0 on one random band of width 0..max_width per row, else 1."""
  width = tf.random.uniform([batch, 1], 0, max_width + 1, dtype=tf.int32)
  start = tf.random.uniform([batch, 1], 0, length, dtype=tf.int32)
  pos = tf.range(length)[tf.newaxis, :]
  return 1.0 - tf.cast((pos >= start) & (pos < start + width), tf.float32)


class SpecAugment(tf_keras.layers.Layer):
  """Training-time time shift, time masking and frequency masking on ``[b, frames, dims]``.

  The shift rolls each clip's real frames by a random number of frames, circularly within
  them (given the ``[b, frames]`` mask, real frames first), so pad frames stay where the
  mask says they are; each mask zeroes one random band per clip. Inference passes inputs
  through unchanged.
  """

  def __init__(self, max_shift: int = 2, max_time_mask: int = 2, max_freq_mask: int = 16,
               **kwargs):
    super().__init__(**kwargs)
    self.max_shift = max_shift
    self.max_time_mask = max_time_mask
    self.max_freq_mask = max_freq_mask

  def call(self, x, mask=None, training=None):
    if not training:
      return x
    b, t, d = tf.shape(x)[0], x.shape[1], x.shape[2]
    if self.max_shift:
      shift = tf.random.uniform([b, 1], -self.max_shift, self.max_shift + 1, dtype=tf.int32)
      pos = tf.range(t)[tf.newaxis, :]
      real = t if mask is None else tf.maximum(
          tf.cast(tf.reduce_sum(mask, axis=1, keepdims=True), tf.int32), 1)
      index = tf.where(pos < real, tf.math.floormod(pos - shift, real), pos)
      x = tf.gather(x, index, batch_dims=1)
    if self.max_time_mask:
      x *= _band(b, t, self.max_time_mask)[:, :, tf.newaxis]
    if self.max_freq_mask:
      x *= _band(b, d, self.max_freq_mask)[:, tf.newaxis, :]
    return x

  def get_config(self):
    return {**super().get_config(), 'max_shift': self.max_shift,
            'max_time_mask': self.max_time_mask, 'max_freq_mask': self.max_freq_mask}


class MaskedPooling(tf_keras.layers.Layer):
  """Pools ``[b, frames, d]`` over real frames: 'mean', 'meanmax', 'meanstd' or 'attention'.

  Attention learns one score per frame (a dense layer), softmaxed over real frames (Kong et
  al. 2019's feature-level attention, simplified).
  """

  def __init__(self, mode: str = 'attention', **kwargs):
    super().__init__(**kwargs)
    if mode not in ('mean', 'meanmax', 'meanstd', 'attention'):
      raise ValueError(f'unknown pooling {mode!r}')
    self.mode = mode
    self.score = tf_keras.layers.Dense(1) if mode == 'attention' else None

  def call(self, x, mask):
    m = mask[:, :, tf.newaxis]
    count = tf.maximum(tf.reduce_sum(m, axis=1), 1.0)
    if self.mode == 'attention':
      logits = self.score(x) + (m - 1.0) * 1e9
      weights = tf.nn.softmax(logits, axis=1) * m
      return tf.reduce_sum(weights * x, axis=1)
    mean = tf.reduce_sum(x * m, axis=1) / count
    if self.mode == 'mean':
      return mean
    if self.mode == 'meanstd':
      var = tf.reduce_sum(tf.square(x - mean[:, tf.newaxis, :]) * m, axis=1) / count
      return tf.concat([mean, tf.sqrt(var + 1e-6)], axis=-1)
    return tf.concat([mean, tf.reduce_max(x + (m - 1.0) * 1e9, axis=1)], axis=-1)

  def get_config(self):
    return {**super().get_config(), 'mode': self.mode}


@tf_keras.saving.register_keras_serializable('envsound')
class FeatureAttentionPooling(tf_keras.layers.Layer):
  """Pools ``[b, frames, d]`` to ``[b, units]``: per-unit sigmoid attention over real frames.

  ``out_k = sum_t a_tk v_tk / sum_t a_tk`` over frames with mask 1, where
  ``a = sigmoid(W_a x + b_a)`` and ``v = W_v x + b_v``.
  """

  def __init__(self, units: int, **kwargs):
    super().__init__(**kwargs)
    self.units = units
    self.attention = tf_keras.layers.Dense(units, activation='sigmoid')
    self.value = tf_keras.layers.Dense(units)

  def call(self, x, mask):
    m = mask[:, :, tf.newaxis]
    weights = tf.clip_by_value(self.attention(x), 1e-7, 1.0) * m
    total = tf.maximum(tf.reduce_sum(weights, axis=1), 1e-7)
    return tf.reduce_sum(weights * self.value(x), axis=1) / total

  def get_config(self):
    return {**super().get_config(), 'units': self.units}

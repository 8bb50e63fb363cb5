"""tf.Transform preprocessing for AudioSet clips (TFX Transform calls ``preprocessing_fn``).

Raw input (schemas/audioset_raw.pbtxt's tensor_representation_group): ``audio_embedding`` a
string RaggedTensor ``[batch, (frames), (1)]`` of 128-byte frames, ``environment`` an int64
SparseTensor ``[batch, (1)]``, ``video_id`` and ``start_time_seconds`` SparseTensors. Output
(features.py): the dequantised frames padded or cut to ``NUM_FRAMES``, normalised per
dimension with full-pass statistics over real frames and flattened (``AUDIO_EMBEDDING_XF``),
the frame mask (``MASK_XF``), the label (``LABEL_XF``), under a multi-label target
(``custom_config['target']``, core/targets.py) also the multi-hot ``labels`` (``TAGS_XF``,
``custom_config['num_classes']`` long), and the clip id (``CLIP_ID_XF``, which
names the reference clips of the model's map). Serving signatures pass only the frames: TFT
prunes the outputs of features they lack.
The serving signatures run this same graph (signatures.py), so nothing is re-implemented.
"""

from typing import Any, Dict, Optional, Tuple

import tensorflow as tf
import tensorflow_transform as tft

from envsound.core import features, targets

_EPSILON = 1e-6


def decode_frames(embedding: tf.RaggedTensor) -> tf.RaggedTensor:
  """Decodes raw frame strings into dequantised floats.

  Args:
    embedding: string RaggedTensor ``[batch, (frames)]`` or ``[batch, (frames), (1)]`` of
      128-byte frames.

  Returns:
    float32 RaggedTensor ``[batch, (frames), EMBEDDING_DIM]`` in VGGish's [-2, 2] range.
  """
  if embedding.ragged_rank > 1:
    embedding = embedding.merge_dims(1, 2)
  def decode(strings):
    raw = tf.io.decode_raw(strings, tf.uint8, fixed_length=features.EMBEDDING_DIM)
    return features.dequantize(tf.cast(raw, tf.float32))
  return tf.ragged.map_flat_values(decode, embedding)


def pad_frames(frames: tf.RaggedTensor) -> Tuple[tf.Tensor, tf.Tensor]:
  """Pads or cuts ragged frames to ``NUM_FRAMES``.

  Args:
    frames: float32 RaggedTensor ``[batch, (frames), EMBEDDING_DIM]``.

  Returns:
    ``(dense, mask)``: float32 ``[batch, NUM_FRAMES, EMBEDDING_DIM]`` with zero pad frames,
    and float32 ``[batch, NUM_FRAMES]``, 1 where a real frame is.
  """
  frames = frames[:, :features.NUM_FRAMES]
  dense = frames.to_tensor(
      default_value=0.0, shape=[None, features.NUM_FRAMES, features.EMBEDDING_DIM])
  mask = tf.sequence_mask(frames.row_lengths(), features.NUM_FRAMES, dtype=tf.float32)
  return dense, mask


def first_or_default(sparse: tf.SparseTensor, default=-1) -> tf.Tensor:
  """The first value of each row of a varlen SparseTensor ``[batch, (n)]``, or ``default``."""
  default = tf.constant(default, dtype=sparse.dtype)
  dense = tf.sparse.to_dense(sparse, default_value=default)
  pad = tf.fill([tf.shape(dense)[0], 1], default)
  return tf.concat([dense, pad], axis=1)[:, 0]


def clip_ids(video_id: tf.SparseTensor, start_time: tf.SparseTensor) -> tf.Tensor:
  """string ``[batch]``: ``"<video_id>:<start seconds>"`` (e.g. ``"abc:30"``, ``"abc:2.5"``)."""
  start = tf.strings.as_string(first_or_default(start_time, 0.0), shortest=True)
  return tf.strings.join([first_or_default(video_id, ''), start], separator=':')


def multi_hot(labels: tf.SparseTensor, num_classes: int) -> tf.Tensor:
  """float32 ``[batch, num_classes]``: 1 at each of a row's class indices (repeats count once)."""
  dense = tf.sparse.to_dense(labels, default_value=-1)
  return tf.reduce_max(tf.one_hot(dense, num_classes, dtype=tf.float32), axis=1)


def preprocessing_fn(inputs: Dict[str, tf.Tensor],
                     custom_config: Optional[Dict[str, Any]] = None) -> Dict[str, tf.Tensor]:
  """tf.Transform callback: raw AudioSet features -> fixed-shape model features.

  Args:
    inputs: raw features as described in the module docstring (``environment``,
      ``labels``, ``video_id`` and ``start_time_seconds`` may be absent, as at serving time;
      TFT then prunes the outputs made from them).
    custom_config: the Transform's ``custom_config``: ``target`` (default 'environment') and,
      for a multi-label target, ``num_classes``.

  Returns:
    ``AUDIO_EMBEDDING_XF`` float32 ``[batch, NUM_FRAMES * EMBEDDING_DIM]``, ``MASK_XF`` float32
    ``[batch, NUM_FRAMES]``, with ``environment`` given ``LABEL_XF`` int64 ``[batch]``, for
    a multi-label target with ``labels`` given ``TAGS_XF`` float32 ``[batch, num_classes]``,
    and with ``video_id`` and ``start_time_seconds`` given ``CLIP_ID_XF`` string ``[batch]``.
  """
  config = custom_config or {}
  target = targets.by_name(config.get('target', targets.DEFAULT))
  frames = decode_frames(inputs[features.AUDIO_EMBEDDING_KEY])
  dense, mask = pad_frames(frames)
  # Full-pass per-dimension statistics over real frames only (pad frames would bias them).
  real = frames[:, :features.NUM_FRAMES].flat_values
  mean = tft.mean(real, reduce_instance_dims=False)
  var = tft.var(real, reduce_instance_dims=False)
  normalised = (dense - mean) * tf.math.rsqrt(var + _EPSILON) * mask[:, :, tf.newaxis]
  outputs = {
      features.AUDIO_EMBEDDING_XF: tf.reshape(
          normalised, [-1, features.NUM_FRAMES * features.EMBEDDING_DIM]),
      features.MASK_XF: mask,
  }
  if features.ENVIRONMENT_KEY in inputs:
    outputs[features.LABEL_XF] = first_or_default(inputs[features.ENVIRONMENT_KEY])
  if target.multi_label and features.LABELS_KEY in inputs:
    outputs[features.TAGS_XF] = multi_hot(inputs[features.LABELS_KEY],
                                          int(config['num_classes']))
  if features.VIDEO_ID_KEY in inputs and features.START_TIME_KEY in inputs:
    outputs[features.CLIP_ID_XF] = clip_ids(inputs[features.VIDEO_ID_KEY],
                                            inputs[features.START_TIME_KEY])
  return outputs

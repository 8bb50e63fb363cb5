"""The ``reference_map`` signature: the model's reference points, stored in the SavedModel.

Input ``index`` int64 ``[batch]`` (rows of the reference set); outputs, all batch-first so TF
Serving's batching can merge and split requests: ``count`` (the set's size, on every row),
``clip_id``, ``environment_name``, ``map_xy`` ``[batch, 2]`` and ``penultimate``
``[batch, d]``. An index outside ``0..count-1`` fails with INVALID_ARGUMENT. A client asks
``index=[0]`` for the count, then fetches the rows in chunks.
"""

import dataclasses
from typing import Dict

import numpy as np
import tensorflow as tf

from envsound.core import features


@dataclasses.dataclass(frozen=True)
class ReferenceSet:
  """The reference clips of a model's map (row i of each array is clip i).

  Attributes:
    clip_ids: str ``[n]``, ``"<video_id>:<start seconds>"``.
    environments: str ``[n]``, each clip's true environment.
    penultimate: float32 ``[n, d]``, the model's penultimate embeddings.
    xy: float32 ``[n, 2]``, the clips' positions on the exported map.
  """
  clip_ids: np.ndarray
  environments: np.ndarray
  penultimate: np.ndarray
  xy: np.ndarray

  def __post_init__(self):
    n = len(self.clip_ids)
    if not n:
      raise ValueError('a reference set needs at least one clip')
    if {len(self.environments), len(self.penultimate), len(self.xy)} != {n}:
      raise ValueError(f'reference arrays disagree in length: {len(self.clip_ids)} clip ids, '
                       f'{len(self.environments)} environments, {len(self.penultimate)} '
                       f'embeddings, {len(self.xy)} positions')


class ReferenceMap(tf.Module):
  """Holds a :class:`ReferenceSet` as constants; :meth:`lookup` is the signature function."""

  def __init__(self, reference: ReferenceSet):
    super().__init__(name='reference_map')
    self.clip_ids = tf.constant([str(c) for c in reference.clip_ids])
    self.environments = tf.constant([str(e) for e in reference.environments])
    self.penultimate = tf.constant(np.asarray(reference.penultimate, np.float32))
    self.xy = tf.constant(np.asarray(reference.xy, np.float32))
    self.dim = int(self.penultimate.shape[1])

  @tf.function(input_signature=[tf.TensorSpec([None], tf.int64,
                                              name=features.REFERENCE_INDEX_INPUT)])
  def lookup(self, index: tf.Tensor) -> Dict[str, tf.Tensor]:
    """Rows ``index`` of the reference set (see the module docstring)."""
    count = tf.shape(self.clip_ids, out_type=tf.int64)[0]
    check = tf.debugging.Assert(
        tf.reduce_all((index >= 0) & (index < count)),
        ['reference_map: index outside 0..count-1; count is', count, 'index', index],
        summarize=8)
    with tf.control_dependencies([check]):
      index = tf.identity(index)
    return {
        features.REFERENCE_COUNT: tf.fill(tf.shape(index), count),
        features.REFERENCE_CLIP_ID: tf.gather(self.clip_ids, index),
        features.REFERENCE_ENVIRONMENT: tf.gather(self.environments, index),
        features.MAP_XY: tf.gather(self.xy, index),
        features.PENULTIMATE: tf.gather(self.penultimate, index),
    }

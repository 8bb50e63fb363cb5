"""AudioSet clip records: ``tf.train.SequenceExample`` in the layout Google ships.

Context: ``video_id`` (bytes), ``start_time_seconds``/``end_time_seconds`` (float),
``labels`` (int64 class indices). Feature list ``audio_embedding``: one 128-byte string per
second of audio.
"""

import dataclasses
import functools
from typing import Optional, Sequence, Tuple

import numpy as np
from tensorflow.core.example import example_pb2

from envsound.core import features


@dataclasses.dataclass(frozen=True)
class Clip:
  """One AudioSet clip: its identity, its labels and its quantised embedding frames."""
  video_id: str
  start_time_seconds: float
  end_time_seconds: float
  labels: Tuple[int, ...]
  embedding: np.ndarray  # uint8 [num_frames, 128]

  @property
  def num_frames(self) -> int:
    return int(self.embedding.shape[0])


def encode_clip_example(embedding: np.ndarray) -> bytes:
  """Serialises one clip's frames as the ``tf.train.Example`` TF Serving's Classify API
  takes: ``audio_embedding`` as a bytes_list, one 128-byte value per frame.

  Raises:
    ValueError: ``embedding`` is not uint8 ``[frames, 128]``.
  """
  embedding = _checked_embedding(embedding)
  ex = example_pb2.Example()
  ex.features.feature[features.AUDIO_EMBEDDING_KEY].bytes_list.value.extend(
      row.tobytes() for row in embedding)
  return ex.SerializeToString()


def _checked_embedding(embedding) -> np.ndarray:
  embedding = np.asarray(embedding)
  if embedding.dtype != np.uint8 or embedding.ndim != 2 or \
      embedding.shape[1] != features.EMBEDDING_DIM:
    raise ValueError(f'embedding must be uint8 [frames, {features.EMBEDDING_DIM}], '
                     f'got {embedding.dtype} {embedding.shape}')
  return embedding


def encode_clip(video_id: str, start_time_seconds: float, end_time_seconds: float,
                labels: Sequence[int], embedding: np.ndarray,
                environment: Optional[int] = None) -> bytes:
  """Serialises one clip as an AudioSet ``SequenceExample``.

  Args:
    video_id: YouTube id of the clip.
    start_time_seconds: start of the segment in the video.
    end_time_seconds: end of the segment in the video.
    labels: AudioSet class indices (rows of ``class_labels_indices.csv``).
    embedding: uint8 array of shape ``[num_frames, 128]``.
    environment: the environment index ingestion adds (``features.ENVIRONMENT_KEY``).

  Returns:
    The serialised ``tf.train.SequenceExample``.
  """
  embedding = _checked_embedding(embedding)
  ex = example_pb2.SequenceExample()
  ctx = ex.context.feature
  ctx[features.VIDEO_ID_KEY].bytes_list.value.append(video_id.encode())
  ctx[features.START_TIME_KEY].float_list.value.append(start_time_seconds)
  ctx[features.END_TIME_KEY].float_list.value.append(end_time_seconds)
  ctx[features.LABELS_KEY].int64_list.value.extend(int(i) for i in labels)
  if environment is not None:
    ctx[features.ENVIRONMENT_KEY].int64_list.value.append(int(environment))
  frames = ex.feature_lists.feature_list[features.AUDIO_EMBEDDING_KEY].feature
  for row in embedding:
    frames.add().bytes_list.value.append(row.tobytes())
  return ex.SerializeToString()


@functools.lru_cache(maxsize=None)
def _environment_suffix(environment: int) -> bytes:
  suffix = example_pb2.SequenceExample()
  suffix.context.feature[features.ENVIRONMENT_KEY].int64_list.value.append(environment)
  return suffix.SerializeToString()


def with_environment(record: bytes, environment: int) -> bytes:
  """A serialized SequenceExample with context feature ``environment`` added, unchanged
  otherwise: protobuf parses concatenated messages as one, their map entries merged.

  ``record`` must not hold ``environment`` already (the last entry would win).
  """
  return record + _environment_suffix(int(environment))


def parse_spec(*context_keys: str):
  """The ``tf.io.parse_sequence_example`` specs of AudioSet's records: (context, sequence).

  Context: the requested keys of ``video_id``, ``start_time_seconds``,
  ``end_time_seconds`` (NaN when absent), ``labels`` (ragged int64) and, on ingested
  records, ``environment`` (-1 when absent); all of the release's four when none are named.
  Sequence: ``audio_embedding`` as a ragged string tensor [batch, (frames), (1)], so
  malformed frames stay visible. Row splits are int64, as parse_sequence_example requires.
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  known = {
      features.VIDEO_ID_KEY: tf.io.FixedLenFeature([], tf.string),
      features.START_TIME_KEY: tf.io.FixedLenFeature([], tf.float32),
      features.END_TIME_KEY: tf.io.FixedLenFeature([], tf.float32, default_value=float('nan')),
      features.LABELS_KEY: tf.io.RaggedFeature(tf.int64, row_splits_dtype=tf.int64),
      features.ENVIRONMENT_KEY: tf.io.FixedLenFeature([], tf.int64, default_value=-1),
  }
  keys = context_keys or (features.VIDEO_ID_KEY, features.START_TIME_KEY,
                          features.END_TIME_KEY, features.LABELS_KEY)
  context = {key: known[key] for key in keys}
  sequence = {features.AUDIO_EMBEDDING_KEY: tf.io.RaggedFeature(tf.string,
                                                                 row_splits_dtype=tf.int64)}
  return context, sequence

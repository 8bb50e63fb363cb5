"""The record rules: one serialized AudioSet SequenceExample -> a checked ``Clip``.

:func:`decode_record` is the reference (protobuf, one record, names the problem);
:func:`check_batch` parses a whole batch with ``tf.io.parse_sequence_example`` and returns
None unless every record passes the same checks, so callers fall back to the reference;
what it returns keeps each serialized record beside its fields (``batch.RecordBatch``).
"""

import functools
import math
from typing import List, Optional

import numpy as np

from envsound.audioset.batch import RecordBatch
from envsound.core import features
from envsound.core import records as records_lib
from envsound.core.records import Clip

# Kinds of record-level problem.
NOT_SEQUENCE_EXAMPLE = 'not_sequence_example'
MISSING_FIELD = 'missing_field'
BAD_FIELD = 'bad_field'
BAD_FRAME = 'bad_frame_size'
NO_FRAMES = 'no_frames'
LABEL_OUT_OF_RANGE = 'label_out_of_range'
RECORD_KINDS = (NOT_SEQUENCE_EXAMPLE, MISSING_FIELD, BAD_FIELD, BAD_FRAME, NO_FRAMES,
                LABEL_OUT_OF_RANGE)
_TYPES = {'bytes_list': 'bytes', 'float_list': 'floats', 'int64_list': 'int64'}


class RecordError(Exception):
  """A record that breaks a rule: its kind (one of RECORD_KINDS), why, which field."""

  def __init__(self, kind: str, reason: str, field: Optional[str] = None):
    super().__init__(reason)
    self.kind, self.reason, self.field = kind, reason, field


def _values(ctx, key: str, kind: str, required: bool = True):
  """The values of context feature ``key``; empty when it is absent and not required."""
  feature = ctx[key] if key in ctx else None
  which = feature.WhichOneof('kind') if feature is not None else None
  values = getattr(feature, kind).value if which == kind else ()
  if which not in (None, kind):
    raise RecordError(BAD_FIELD, f'{key} must be a list of {_TYPES[kind]}, got a list of '
                                 f'{_TYPES[which]}', key)
  if required and not values:
    raise RecordError(MISSING_FIELD, f'missing context feature {key}', key)
  return values


def _frames(feature_lists) -> np.ndarray:
  if features.AUDIO_EMBEDDING_KEY not in feature_lists:
    raise RecordError(MISSING_FIELD, f'missing feature list {features.AUDIO_EMBEDDING_KEY}',
                      features.AUDIO_EMBEDDING_KEY)
  rows = []
  for t, frame in enumerate(feature_lists[features.AUDIO_EMBEDDING_KEY].feature):
    values = frame.bytes_list.value if frame.WhichOneof('kind') == 'bytes_list' else ()
    if len(values) != 1 or len(values[0]) != features.EMBEDDING_DIM:
      got = f'{len(values[0])} bytes' if len(values) == 1 else \
          f'{len(values)} byte strings' if values else frame.WhichOneof('kind') or 'nothing'
      raise RecordError(BAD_FRAME, f'frame {t}: expected one {features.EMBEDDING_DIM}-byte '
                                   f'string, got {got}', features.AUDIO_EMBEDDING_KEY)
    rows.append(values[0])
  if not rows:
    raise RecordError(NO_FRAMES, 'clip has no frames', features.AUDIO_EMBEDDING_KEY)
  return np.frombuffer(b''.join(rows), np.uint8).reshape(-1, features.EMBEDDING_DIM)


def decode_record(record: bytes, num_classes: int) -> Clip:
  """Parses and checks one serialized record with protobuf (the reference rules).

  Raises:
    RecordError: the record breaks a rule (its ``kind`` is one of RECORD_KINDS).
  """
  return check_example(parse_record(record), num_classes)


def parse_record(record: bytes):
  """Parses one serialized record as a ``tf.train.SequenceExample`` proto.

  Raises:
    RecordError: NOT_SEQUENCE_EXAMPLE when protobuf cannot parse it.
  """
  from tensorflow.core.example import example_pb2  # pylint: disable=import-outside-toplevel
  example = example_pb2.SequenceExample()
  try:
    example.ParseFromString(record)
  except Exception as e:  # pylint: disable=broad-except  (DecodeError differs by backend)
    raise RecordError(NOT_SEQUENCE_EXAMPLE,
                      f'not a SequenceExample ({e or "cannot parse"})') from None
  return example


def check_example(example, num_classes: int) -> Clip:
  """Checks a parsed SequenceExample against the record rules; returns its Clip.

  Raises:
    RecordError: the record breaks a rule (its ``kind`` is one of RECORD_KINDS).
  """
  ctx, lists = example.context.feature, example.feature_lists.feature_list
  if not lists and features.AUDIO_EMBEDDING_KEY in ctx:
    raise RecordError(NOT_SEQUENCE_EXAMPLE, f'not a SequenceExample: {features.AUDIO_EMBEDDING_KEY} '
                                            'is a context feature (a tf.train.Example?)')
  if not lists and not ctx:
    raise RecordError(NOT_SEQUENCE_EXAMPLE, 'not a SequenceExample: no features at all')
  frames = _frames(lists)
  video_id = _values(ctx, features.VIDEO_ID_KEY, 'bytes_list')
  start = _values(ctx, features.START_TIME_KEY, 'float_list')
  end = _values(ctx, features.END_TIME_KEY, 'float_list', required=False)
  labels = _values(ctx, features.LABELS_KEY, 'int64_list')
  for key, values in ((features.VIDEO_ID_KEY, video_id), (features.START_TIME_KEY, start),
                      (features.END_TIME_KEY, end)):
    if len(values) > 1:
      raise RecordError(BAD_FIELD, f'{key} must hold one value, got {len(values)}', key)
  try:
    vid = video_id[0].decode('utf-8')
  except UnicodeDecodeError:
    raise RecordError(BAD_FIELD, 'video_id is not UTF-8 text', features.VIDEO_ID_KEY) from None
  if not vid or not math.isfinite(start[0]):
    key = features.START_TIME_KEY if vid else features.VIDEO_ID_KEY
    raise RecordError(BAD_FIELD, f'{key} is empty or not finite', key)
  bad = [int(l) for l in labels if not 0 <= l < num_classes]
  if bad:
    raise RecordError(LABEL_OUT_OF_RANGE, f'label index {bad[0]} is outside the class list '
                                          f'(0..{num_classes - 1})', features.LABELS_KEY)
  end_s = end[0] if end and not math.isnan(end[0]) else start[0] + len(frames)
  return Clip(vid, start[0], end_s, tuple(int(l) for l in labels), frames)


@functools.lru_cache(maxsize=None)
def _batch_parser():
  """A tf.function parsing a batch of records; ``ok`` is false if any frame is malformed."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  context, sequence = records_lib.parse_spec()

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
  def parse(records):
    ctx, seq, _ = tf.io.parse_sequence_example(records, context, sequence)
    emb = seq[features.AUDIO_EMBEDDING_KEY]
    per_frame = emb.nested_row_splits[1]
    ok = tf.reduce_all(tf.strings.length(emb.flat_values) == features.EMBEDDING_DIM) & \
        tf.reduce_all(per_frame[1:] - per_frame[:-1] == 1)
    frames = tf.io.decode_raw(emb.flat_values, tf.uint8, fixed_length=features.EMBEDDING_DIM)
    labels = ctx[features.LABELS_KEY]
    return (ctx[features.VIDEO_ID_KEY], ctx[features.START_TIME_KEY],
            ctx[features.END_TIME_KEY], labels.values, labels.row_splits, frames,
            emb.nested_row_splits[0], ok)
  return parse


def check_batch(records, num_classes: int) -> Optional[RecordBatch]:
  """The batch (a tf string tensor) as a RecordBatch if every record is valid, else None."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  try:
    ids, starts, ends, labels, label_splits, frames, frame_splits, ok = \
        _batch_parser()(records)
  except tf.errors.InvalidArgumentError:
    return None
  labels, label_splits = labels.numpy(), label_splits.numpy()
  frame_splits, starts = frame_splits.numpy(), starts.numpy()
  if not ok or (np.diff(label_splits) < 1).any() or (np.diff(frame_splits) < 1).any() or \
      labels.min() < 0 or labels.max() >= num_classes or not np.isfinite(starts).all():
    return None
  try:
    ids = [v.decode('utf-8') for v in ids.numpy()]
  except UnicodeDecodeError:
    return None
  if not all(ids):
    return None
  ends = ends.numpy()
  given = ~np.isnan(ends)
  ends = np.where(given, ends, starts + np.diff(frame_splits))  # float64, as the reference
  return RecordBatch(records.numpy(), ids, starts, ends, given, labels, label_splits,
                     frames.numpy(), frame_splits)


def decode_batch(records, num_classes: int) -> Optional[List[Clip]]:
  """Clips of a batch (a tf string tensor) if every record is valid, else None."""
  batch = check_batch(records, num_classes)
  return None if batch is None else batch.clips()

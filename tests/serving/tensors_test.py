"""Clip grouping (no client-side padding) and TensorProto conversions without TensorFlow,
checked against TensorFlow's own."""

import numpy as np
import pytest
import tensorflow as tf

from envsound.core import features
from envsound.serving import tensors
from envsound.core.errors import InvalidInputError
from envsound.serving.client_errors import InvalidRequestError


def _clip(frames, dtype=np.uint8, value=7):
  return np.full((frames, features.EMBEDDING_DIM), value, dtype)


def test_clips_group_by_frame_count_and_dtype_without_padding():
  clips = [_clip(10), _clip(6), _clip(12), _clip(6, np.float64, 0.5), _clip(6, value=9)]
  groups = tensors.group_clips(clips)
  assert [g.indices for g in groups] == [(0, 2), (1, 4), (3,)]
  assert [g.batch.shape for g in groups] == [(2, 10, 128), (2, 6, 128), (1, 6, 128)]
  assert [g.batch.dtype for g in groups] == [np.uint8, np.uint8, np.float32]
  np.testing.assert_array_equal(groups[1].batch[1], clips[4])  # 6 frames, not padded
  np.testing.assert_array_equal(groups[0].batch[1], clips[2][:features.NUM_FRAMES])


def test_a_signature_dtype_converts_or_refuses():
  groups = tensors.group_clips([_clip(10), _clip(10, np.float32, 0.0)], dtype=np.float32)
  assert len(groups) == 1 and groups[0].batch.dtype == np.float32
  np.testing.assert_allclose(groups[0].batch[0], features.dequantize(7.0), rtol=1e-6)
  with pytest.raises(InvalidRequestError, match='clip 1: dtype float32; this signature'):
    tensors.group_clips([_clip(10), _clip(10, np.float32, 0.5)], dtype=np.uint8)


def test_no_clips_is_a_refused_request():
  with pytest.raises(InvalidRequestError, match='no clips to predict'):
    tensors.group_clips([])


@pytest.mark.parametrize('clips,message', [
    ([_clip(10), np.zeros((10, 64), np.uint8)], r'^clip 1: shape \(10, 64\), expected'),
    ([np.zeros((0, 128), np.uint8)], '^clip 0: empty'),
    ([np.zeros((10, 128), np.int32)], '^clip 0: dtype int32'),
    ([_clip(10, np.float32, 2.5)], r'^clip 0: float values span \[2.5, 2.5\], outside'),
])
def test_bad_clips_are_named_by_the_clip_rule(clips, message):
  with pytest.raises(InvalidInputError, match=message):
    tensors.group_clips(clips)


@pytest.mark.parametrize('array', [
    np.arange(24, dtype=np.float32).reshape(2, 3, 4),
    np.arange(6, dtype=np.uint8).reshape(1, 6),
    np.array([3, -1], np.int64),
    np.array([[b'rail', b'birds']], dtype=object),
    np.array(['music']),
    np.array([[True, False]]),
    np.zeros((0, 3), np.float32),
    np.array(0.5, np.float16)])
def test_protos_match_tensorflow(array):
  proto = tensors.to_proto(array)
  reference = tf.make_tensor_proto(array)
  assert proto.SerializeToString(deterministic=True) == reference.SerializeToString(
      deterministic=True)
  np.testing.assert_array_equal(tensors.from_proto(proto), tf.make_ndarray(reference))
  np.testing.assert_array_equal(tensors.from_proto(reference), tf.make_ndarray(reference))


@pytest.mark.parametrize('proto', [
    tf.make_tensor_proto(np.float32(1.5), shape=[2, 3]),     # one float_val, repeated
    tf.make_tensor_proto(7, dtype=tf.int64, shape=[3]),
    tf.make_tensor_proto(np.float16(2.0), shape=[4]),
    tf.make_tensor_proto([b'a', b'b'], shape=[2, 1])])
def test_value_fields_read_as_tensorflow_reads_them(proto):
  assert not proto.tensor_content
  np.testing.assert_array_equal(tensors.from_proto(proto), tf.make_ndarray(proto))


@pytest.mark.parametrize('enum', [tf.float32, tf.uint8, tf.int64, tf.string, tf.float16,
                                  tf.bool, tf.float64])
def test_dtype_names_are_tensorflows(enum):
  assert tensors.dtype_name(enum.as_datatype_enum) == enum.name


def test_malformed_tensor_content_raises():
  proto = tensors.to_proto(np.zeros((2, 3), np.float32))
  proto.tensor_content = proto.tensor_content[:-4]  # one float short
  with pytest.raises(ValueError, match='tensor_content holds 5 values'):
    tensors.from_proto(proto)

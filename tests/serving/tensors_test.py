"""Clip grouping (no client-side padding) and the fast TensorProto conversions."""

import numpy as np
import pytest
import tensorflow as tf

from envsound.core import features
from envsound.serving import tensors
from envsound.serving.errors import InvalidRequestError


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
    tensors.group_clips([_clip(10), _clip(10, np.float32)], dtype=np.uint8)


@pytest.mark.parametrize('clips,message', [
    ([], 'no clips'),
    ([_clip(10), np.zeros((10, 64), np.uint8)], r'clip 1: shape \(10, 64\)'),
    ([np.zeros((0, 128), np.uint8)], 'clip 0: shape'),
    ([np.zeros((10, 128), np.int32)], 'clip 0: dtype int32'),
])
def test_bad_clips_are_named(clips, message):
  with pytest.raises(InvalidRequestError, match=message):
    tensors.group_clips(clips)


@pytest.mark.parametrize('array', [
    np.arange(24, dtype=np.float32).reshape(2, 3, 4),
    np.arange(6, dtype=np.uint8).reshape(1, 6),
    np.array([3, -1], np.int64),
    np.array([[b'rail', b'birds']], dtype=object),
    np.array(['music'])])
def test_protos_match_tensorflow(array):
  proto = tensors.to_proto(array)
  reference = tf.make_tensor_proto(array)
  assert proto.dtype == reference.dtype
  assert proto.tensor_shape == reference.tensor_shape
  np.testing.assert_array_equal(tensors.from_proto(proto), tf.make_ndarray(reference))
  np.testing.assert_array_equal(tensors.from_proto(reference), tf.make_ndarray(reference))


def test_malformed_tensor_content_raises():
  proto = tensors.to_proto(np.zeros((2, 3), np.float32))
  proto.tensor_content = proto.tensor_content[:-4]  # one float short
  with pytest.raises((TypeError, ValueError)):
    tensors.from_proto(proto)

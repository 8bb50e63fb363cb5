"""The quantisation rule shared by the sample generator, the models and the VGGish export."""

import numpy as np

from envsound.core import features


def test_quantize_follows_vggish_postprocess():
  x = np.array([-3.0, -2.0, 0.0, 1.99, 2.0, 5.0])
  # VGGish: clip to [-2, 2], scale by 255/4, truncate: 0.0 -> 127.5 -> 127, 1.99 -> 254.4 -> 254.
  assert features.quantize(x).tolist() == [0, 0, 127, 254, 255, 255]


def test_requantize_inverts_dequantize_in_float32():
  b = np.arange(256, dtype=np.uint8)
  x = features.dequantize(b.astype(np.float32)).astype(np.float32)
  assert np.array_equal(features.requantize(x), b)
  assert not np.array_equal(features.quantize(x), b)  # why requantize exists


def test_tensorflow_tensors_follow_the_same_rule():
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  rng = np.random.default_rng(0)
  x = np.concatenate([rng.uniform(-2.5, 2.5, 1000),
                      features.dequantize(np.arange(256.0))]).astype(np.float32)
  assert np.array_equal(features.quantize(tf.constant(x)).numpy(), features.quantize(x))
  assert np.array_equal(features.requantize(tf.constant(x)).numpy(), features.requantize(x))

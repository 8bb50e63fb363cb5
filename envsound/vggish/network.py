"""The VGG-like VGGish network as a ``tf.Module`` whose variables come from a checkpoint.

3x3 convolutions (SAME, ReLU) of 64, 128, 2 x 256 and 2 x 512 channels, each group followed
by a 2x2 max pool, then fully connected layers of 4096, 4096 and 128 units.
"""

from typing import Dict

import numpy as np
import tensorflow as tf

from envsound.vggish import params


class VGGish(tf.Module):
  """log-mel examples ``[n, 96, 64]`` -> VGGish's raw 128-d embeddings ``[n, 128]``.

  Args:
    weights: ``{checkpoint variable name: array}`` with every name of
      ``params.variable_shapes()``.
    fc2_relu: apply ReLU after the last layer, as revisions of Google's code before it was
      dropped did.
  """

  def __init__(self, weights: Dict[str, np.ndarray], fc2_relu: bool = False):
    super().__init__(name='vggish')
    self.fc2_relu = fc2_relu

    def layer(scope):
      return (tf.Variable(weights[f'{scope}/weights'], trainable=False, name='weights'),
              tf.Variable(weights[f'{scope}/biases'], trainable=False, name='biases'))

    self.conv = [layer(scope) for scope, _ in params.CONV_LAYERS]
    self.dense = [layer(scope) for scope, _ in params.DENSE_LAYERS]
    self._pool = [scope in params.POOL_AFTER for scope, _ in params.CONV_LAYERS]

  def __call__(self, examples: tf.Tensor) -> tf.Tensor:
    x = examples[..., tf.newaxis]
    for (kernel, bias), pool in zip(self.conv, self._pool):
      x = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, kernel, 1, 'SAME'), bias))
      if pool:
        x = tf.nn.max_pool2d(x, 2, 2, 'SAME')
    x = tf.reshape(x, [-1, params.FLAT_DIM])
    for i, (kernel, bias) in enumerate(self.dense):
      x = tf.nn.bias_add(tf.matmul(x, kernel), bias)
      if i < len(self.dense) - 1 or self.fc2_relu:
        x = tf.nn.relu(x)
    return x

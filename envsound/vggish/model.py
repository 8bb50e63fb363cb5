"""The exportable VGGish model: waveform -> front end -> network -> PCA -> uint8 and float."""

from typing import Dict

import numpy as np
import tensorflow as tf

from envsound.core import features
from envsound.vggish import frontend, network, params, postprocess


class VGGishModel(tf.Module):
  """VGGish with Google's post-processing, with TF Serving signatures.

  Args:
    weights: checkpoint variables by name (see ``checkpoint.read_checkpoint``).
    eigen_vectors: PCA matrix ``[128, 128]``.
    means: PCA means ``[128]``.
    fc2_relu: ReLU after the last layer (older revisions of Google's code).
  """

  def __init__(self, weights: Dict[str, np.ndarray], eigen_vectors: np.ndarray,
               means: np.ndarray, fc2_relu: bool = False):
    super().__init__(name='vggish_model')
    self.network = network.VGGish(weights, fc2_relu=fc2_relu)
    self.pca_eigen_vectors = tf.Variable(eigen_vectors, trainable=False)
    self.pca_means = tf.Variable(means, trainable=False)

  def embed_examples(self, examples: tf.Tensor) -> Dict[str, tf.Tensor]:
    """log-mel examples ``[n, 96, 64]`` -> ``{embedding: uint8, float_embedding}`` [n, 128]."""
    raw = tf.cond(tf.shape(examples)[0] > 0, lambda: self.network(examples),  # oneDNN's conv
                  lambda: tf.zeros([0, params.EMBEDDING_DIM]))            # rejects 0 rows
    quantized = postprocess.postprocess(raw, self.pca_eigen_vectors, self.pca_means)
    return {features.VGGISH_EMBEDDING: quantized,
            features.VGGISH_FLOAT_EMBEDDING: features.dequantize(
                tf.cast(quantized, tf.float32))}

  @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
  def embed_waveform(self, waveform):
    """One 16 kHz waveform ``[samples]`` -> ``[frames, 128]`` outputs."""
    return self.embed_examples(frontend.examples(waveform))

  @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32)])
  def embed_batch(self, waveform):
    """Equal-length waveforms ``[batch, samples]`` -> ``[batch, frames, 128]`` outputs."""
    examples = frontend.examples(waveform)                    # [batch, frames, 96, 64]
    shape = tf.shape(examples)
    flat = self.embed_examples(tf.reshape(examples, tf.concat([[-1], shape[2:]], 0)))
    return {k: tf.reshape(v, [shape[0], shape[1], v.shape[-1]]) for k, v in flat.items()}

  def signatures(self) -> Dict[str, tf.types.experimental.ConcreteFunction]:
    """The SavedModel's signatures, by name."""
    return {features.VGGISH_SIGNATURE: self.embed_batch.get_concrete_function(),
            features.WAVEFORM_SIGNATURE: self.embed_waveform.get_concrete_function()}

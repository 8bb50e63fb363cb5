"""A tiny classifier exported with envsound's serving contract, for serving and GUI tests.

The real export lives in ``components/signatures.py``; this one follows the same contract
(signature names, input and output keys from ``core/features.py``) at a size that exports in
a few seconds. Its map is a fixed linear projection of the penultimate layer (``map_xy``) and
its ``reference_map`` signature serves :data:`REFERENCE_SIZE` reference clips
(:func:`reference_frames`), through the same ``ReferenceMap`` module as real models.
"""

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

import tensorflow as tf  # pylint: disable=g-import-not-at-top
import tf_keras  # pylint: disable=g-import-not-at-top

from envsound.components.reference_map import ReferenceMap, ReferenceSet  # pylint: disable=g-import-not-at-top
from envsound.core import features  # pylint: disable=g-import-not-at-top

EMBEDDING_UNITS = 8
REFERENCE_SIZE = 24


def reference_frames(seed: int = 0) -> np.ndarray:
  """uint8 ``[REFERENCE_SIZE, NUM_FRAMES, 128]``: the reference clips of a seed's model."""
  rng = np.random.default_rng(1000 + seed)
  return rng.integers(0, 256, (REFERENCE_SIZE, features.NUM_FRAMES, features.EMBEDDING_DIM),
                      dtype=np.uint8)


def reference_clip_ids() -> list:
  """The clip ids of the reference rows, in row order."""
  return [f'ref{i:02d}:{10 * i}' for i in range(REFERENCE_SIZE)]


def _build_model(num_classes: int, seed: int) -> tf_keras.Model:
  tf_keras.utils.set_random_seed(seed)
  frames = tf_keras.Input((features.NUM_FRAMES, features.EMBEDDING_DIM), dtype=tf.float32)
  pooled = tf_keras.layers.GlobalAveragePooling1D()(frames)
  hidden = tf_keras.layers.Dense(EMBEDDING_UNITS, activation='relu', name='penultimate')(pooled)
  probs = tf_keras.layers.Dense(num_classes, activation='softmax', name='probs')(hidden)
  model = tf_keras.Model(frames, [probs, hidden])
  # A few eager steps on random data: enough to move the weights, far cheaper than fit().
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(16, features.NUM_FRAMES, features.EMBEDDING_DIM)).astype(np.float32)
  y = rng.integers(0, num_classes, size=16)
  loss_fn = tf_keras.losses.SparseCategoricalCrossentropy()
  optimizer = tf_keras.optimizers.SGD(0.1)
  for _ in range(3):
    with tf.GradientTape() as tape:
      loss = loss_fn(y, model(x, training=True)[0])
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
  return model


def _fix_frames(x: tf.Tensor) -> tf.Tensor:
  """Pads with zeros or cuts dimension 1 to NUM_FRAMES."""
  x = x[:, :features.NUM_FRAMES]
  pad = features.NUM_FRAMES - tf.shape(x)[1]
  return tf.pad(x, [[0, 0], [0, pad], [0, 0]])


class _Exported(tf.Module):
  """Holds the trained weights and the class names; its tf.functions become the signatures.

  The weights are copied out of the Keras model: saving the Keras model itself traces its
  call functions too, which makes each export several seconds slower.
  """

  def __init__(self, model: tf_keras.Model, class_names: Sequence[str], seed: int):
    super().__init__()
    self.weights = [tf.Variable(w) for w in model.get_weights()]
    self.class_names = tf.constant(list(class_names))
    rng = np.random.default_rng(seed)
    self.map_kernel = tf.Variable(rng.normal(size=(EMBEDDING_UNITS, 2)).astype(np.float32))
    floats = features.dequantize(reference_frames(seed).astype(np.float32))
    rows = self.outputs(tf.constant(floats))
    self.reference_map = ReferenceMap(ReferenceSet(
        np.array(reference_clip_ids()),
        np.array([class_names[i % len(class_names)] for i in range(REFERENCE_SIZE)]),
        rows[features.PENULTIMATE].numpy(), rows[features.MAP_XY].numpy()))

  def outputs(self, floats: tf.Tensor):
    kernel1, bias1, kernel2, bias2 = self.weights
    hidden = tf.nn.relu(tf.reduce_mean(_fix_frames(floats), axis=1) @ kernel1 + bias1)
    probs = tf.nn.softmax(hidden @ kernel2 + bias2)
    top = tf.argmax(probs, axis=1)
    batch = tf.shape(probs)[0]
    return {
        features.PROBABILITIES: probs,
        features.TOP_CLASS: tf.gather(self.class_names, top),
        features.TOP_SCORE: tf.reduce_max(probs, axis=1),
        features.CLASS_NAMES: tf.tile(self.class_names[tf.newaxis], [batch, 1]),
        features.PENULTIMATE: hidden,
        features.MAP_XY: hidden @ self.map_kernel,
    }

  @tf.function(input_signature=[tf.TensorSpec([None, None, features.EMBEDDING_DIM],
                                              tf.float32, name=features.EMBEDDING_INPUT)])
  def predict_float(self, embedding):
    return self.outputs(embedding)

  @tf.function(input_signature=[tf.TensorSpec([None, None, features.EMBEDDING_DIM],
                                              tf.uint8, name=features.EMBEDDING_INPUT)])
  def predict_uint8(self, embedding):
    return self.outputs(features.dequantize(tf.cast(embedding, tf.float32)))

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string,
                                              name=features.SERIALIZED_INPUT)])
  def serve_examples(self, examples):
    _, seq, _ = tf.io.parse_sequence_example(
        examples, sequence_features={features.AUDIO_EMBEDDING_KEY: tf.io.RaggedFeature(
            tf.string, row_splits_dtype=tf.int64)})
    return self.outputs(_decode(seq[features.AUDIO_EMBEDDING_KEY].merge_dims(1, 2)))

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string,
                                              name=features.CLASSIFY_INPUT)])
  def classify(self, inputs):
    parsed = tf.io.parse_example(inputs, {features.AUDIO_EMBEDDING_KEY: tf.io.RaggedFeature(
        tf.string, row_splits_dtype=tf.int64)})
    outputs = self.outputs(_decode(parsed[features.AUDIO_EMBEDDING_KEY]))
    return {features.CLASSIFY_CLASSES: outputs[features.CLASS_NAMES],
            features.CLASSIFY_SCORES: outputs[features.PROBABILITIES]}


def _decode(raw: tf.RaggedTensor) -> tf.Tensor:
  """128-byte frame strings ``[batch, (frames)]`` -> dequantised floats, NUM_FRAMES long."""
  frames = tf.io.decode_raw(raw.flat_values, tf.uint8, fixed_length=features.EMBEDDING_DIM)
  floats = features.dequantize(tf.cast(raw.with_flat_values(frames), tf.float32))
  return _fix_frames(floats.to_tensor())


def export_tiny_model(base_path, version: int, class_names: Sequence[str],
                      seed: int = 0) -> Path:
  """Trains a tiny model for a few steps and exports it as ``<base_path>/<version>``.

  Args:
    base_path: the model's base path (TF Serving layout).
    version: the integer version directory to write.
    class_names: the classes the model predicts.
    seed: seeds the weights, so different seeds give different predictions.

  Returns:
    The version directory, with ``saved_model.pb``, ``variables/`` and the signatures
    ``serving_default``, ``predict_embeddings``, ``predict_float_embeddings``,
    ``reference_map`` and ``classify`` (method ``tensorflow/serving/classify``).
  """
  out = Path(base_path) / str(int(version))
  module = _Exported(_build_model(len(class_names), seed), class_names, seed)
  tf.saved_model.save(module, str(out), signatures={
      features.SERVING_SIGNATURE: module.serve_examples,
      features.UINT8_SIGNATURE: module.predict_uint8,
      features.FLOAT_SIGNATURE: module.predict_float,
      features.CLASSIFY_SIGNATURE: module.classify,
      features.REFERENCE_MAP_SIGNATURE: module.reference_map.lookup,
  })
  from envsound.components import signatures  # pylint: disable=import-outside-toplevel
  signatures.set_method_names(str(out), signatures.METHOD_NAMES)
  return out


def export_serving_dir(serving_dir, versions: Mapping[str, Sequence[int]],
                       class_names: Sequence[str] = ('rail', 'birds', 'music'),
                       warmup: bool = True) -> Path:
  """Exports tiny models as a Pusher would and writes ``<serving_dir>/models.config``.

  Args:
    serving_dir: the serving root.
    versions: model name -> the versions to export (seeded by version number).
    class_names: the classes every model predicts.
    warmup: also write each version's warm-up requests.

  Returns:
    The models.config path (absolute base paths, stable/canary labels).
  """
  from envsound.serving import model_config
  from envsound.core import warmup as warmup_lib  # pylint: disable=import-outside-toplevel
  for name, numbers in versions.items():
    for number in numbers:
      path = export_tiny_model(Path(serving_dir) / name, number, class_names, seed=number)
      if warmup:
        warmup_lib.write_warmup_requests(path)
  return model_config.write_model_config(serving_dir, Path(serving_dir) / 'models.config')

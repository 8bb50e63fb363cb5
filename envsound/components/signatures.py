"""Serving signatures for every envsound model, written once for both trainers.

Each prediction signature turns its input into the raw features Transform saw (string
RaggedTensor ``[batch, (frames), (1)]`` of 128-byte frames) and runs the saved Transform
graph (``tft_output.transform_features_layer()``) and then the model, so serving applies the
very same preprocessing as training. Names and output keys come from features.py.

- ``serving_default``: serialized AudioSet SequenceExamples (``examples``), as ingestion
  writes them; ``environment`` is not needed.
- ``predict_embeddings``: uint8 ``embedding`` ``[batch, frames, 128]`` (any frame count).
- ``predict_float_embeddings``: float32 dequantised ``embedding`` ``[batch, frames, 128]``
  (re-quantised in-graph, exact for values that came from AudioSet bytes).
- ``classify``: serialized tf.Examples (``inputs``; ``audio_embedding`` a bytes_list of
  frames) -> ``classes`` and ``scores``, with method ``tensorflow/serving/classify``, so TF
  Serving's Classify API works too.
- ``transform_features``: serialized examples -> transformed features and label (TFMA).
- ``reference_map``: the reference points of the model's map (reference_map.py).

With a map projection (projection.py's network on the penultimate layer) every prediction
signature also returns ``map_xy``, the clip's position on the model's map.

``save_model`` writes them (``tf.saved_model.save`` marks every signature as a predict
one; it then sets the classify signature's method name) and the class names, one a line in
index order, to ``assets.extra/labels.txt`` (``features.LABELS_FILE``), for tools that read a
model's labels from a file.
"""

import os
from typing import Dict, Mapping, Optional, Sequence

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras

from envsound.core import features, warmup
from envsound.components.model_layers import PENULTIMATE_LAYER
from envsound.components.reference_map import ReferenceMap, ReferenceSet

_BYTE_TABLE = [bytes([i]) for i in range(256)]


def parse_raw_examples(serialized: tf.Tensor, with_label: bool) -> Dict[str, tf.Tensor]:
  """Parses serialized SequenceExamples into the raw features preprocessing_fn receives.

  Args:
    serialized: string ``[batch]``.
    with_label: also parse the ``environment`` context feature.

  Returns:
    ``audio_embedding``: string RaggedTensor ``[batch, (frames), (1)]`` (int64 row splits)
    and, with ``with_label``, ``environment``: int64 SparseTensor ``[batch, (n)]``.
  """
  context = {features.ENVIRONMENT_KEY: tf.io.VarLenFeature(tf.int64)} if with_label else {}
  sequence = {features.AUDIO_EMBEDDING_KEY: tf.io.RaggedFeature(tf.string,
                                                          row_splits_dtype=tf.int64)}
  ctx, seq, _ = tf.io.parse_sequence_example(serialized, context_features=context,
                                             sequence_features=sequence)
  return {**ctx, **seq}


def parse_frame_examples(serialized: tf.Tensor) -> Dict[str, tf.Tensor]:
  """Parses serialized tf.Examples whose ``audio_embedding`` bytes_list holds one 128-byte
  value per frame into the raw features preprocessing_fn receives."""
  parsed = tf.io.parse_example(serialized, {features.AUDIO_EMBEDDING_KEY: tf.io.RaggedFeature(
      tf.string, row_splits_dtype=tf.int64)})
  frames = parsed[features.AUDIO_EMBEDDING_KEY]  # [batch, (frames)] -> [batch, (frames), (1)]
  one_each = tf.range(tf.shape(frames.values, out_type=tf.int64)[0] + 1)
  return {features.AUDIO_EMBEDDING_KEY: tf.RaggedTensor.from_row_splits(
      tf.RaggedTensor.from_row_splits(frames.values, one_each), frames.row_splits)}


def embedding_to_raw(embedding: tf.Tensor) -> Dict[str, tf.Tensor]:
  """uint8 ``[batch, frames, 128]`` -> raw ``audio_embedding`` feature (128-byte strings)."""
  bytes_ = tf.gather(tf.constant(_BYTE_TABLE), tf.cast(embedding, tf.int32))
  frames = tf.strings.reduce_join(bytes_, axis=-1)  # [batch, frames]
  ragged = tf.RaggedTensor.from_tensor(frames[:, :, tf.newaxis], ragged_rank=2,
                                       row_splits_dtype=tf.int64)
  return {features.AUDIO_EMBEDDING_KEY: ragged}


def make_signatures(model: tf_keras.Model, tft_output: tft.TFTransformOutput,
                    class_names: Sequence[str],
                    map_projection: Optional[tf_keras.Model] = None,
                    reference: Optional[ReferenceSet] = None
                    ) -> Dict[str, tf.types.experimental.ConcreteFunction]:
  """Builds the SavedModel signatures of a trained model.

  Args:
    model: Keras model on the transformed features, with a layer named PENULTIMATE_LAYER.
    tft_output: the Transform graph the model was trained on.
    class_names: environment ids in class index order.
    map_projection: penultimate ``[batch, d]`` -> map ``[batch, 2]``; adds ``map_xy``
      to every prediction signature.
    reference: the map's reference points; adds the ``reference_map`` signature.

  Returns:
    ``{signature name: concrete function}`` for ``model.save(..., signatures=...)``.
  """
  # Attached to the model so they are tracked and saved with it.
  model.tft_layer = tft_output.transform_features_layer()
  model.serving_model = tf_keras.Model(
      model.inputs, [model.output, model.get_layer(PENULTIMATE_LAYER).output])
  model.map_projection = map_projection
  names = tf.constant([str(c) for c in class_names])

  def predict(raw: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
    transformed = model.tft_layer(raw)
    inputs = {k: transformed[k] for k in (features.AUDIO_EMBEDDING_XF, features.MASK_XF)}
    probabilities, embedding = model.serving_model(inputs, training=False)
    batch = tf.shape(probabilities)[0]
    outputs = {
        features.PROBABILITIES: probabilities,
        features.TOP_CLASS: tf.gather(names, tf.argmax(probabilities, axis=1)),
        features.TOP_SCORE: tf.reduce_max(probabilities, axis=1),
        features.CLASS_NAMES: tf.tile(names[tf.newaxis, :], [batch, 1]),
        features.PENULTIMATE: embedding,
    }
    if model.map_projection is not None:
      outputs[features.MAP_XY] = model.map_projection(embedding, training=False)
    return outputs

  examples_spec = tf.TensorSpec([None], tf.string, name=features.SERIALIZED_INPUT)

  @tf.function(input_signature=[examples_spec])
  def serve_examples(examples):
    return predict(parse_raw_examples(examples, with_label=False))

  @tf.function(input_signature=[examples_spec])
  def transform_features(examples):
    return model.tft_layer(parse_raw_examples(examples, with_label=True))

  @tf.function(input_signature=[tf.TensorSpec([None, None, features.EMBEDDING_DIM], tf.uint8,
                                              name=features.EMBEDDING_INPUT)])
  def predict_embeddings(embedding):
    return predict(embedding_to_raw(embedding))

  @tf.function(input_signature=[tf.TensorSpec([None, None, features.EMBEDDING_DIM],
                                              tf.float32, name=features.EMBEDDING_INPUT)])
  def predict_float_embeddings(embedding):
    return predict(embedding_to_raw(features.requantize(embedding)))

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string,
                                              name=features.CLASSIFY_INPUT)])
  def classify(inputs):
    outputs = predict(parse_frame_examples(inputs))
    return {features.CLASSIFY_CLASSES: outputs[features.CLASS_NAMES],
            features.CLASSIFY_SCORES: outputs[features.PROBABILITIES]}

  functions = {
      features.SERVING_SIGNATURE: serve_examples.get_concrete_function(),
      features.CLASSIFY_SIGNATURE: classify.get_concrete_function(),
      features.TRANSFORM_SIGNATURE: transform_features.get_concrete_function(),
      features.UINT8_SIGNATURE: predict_embeddings.get_concrete_function(),
      features.FLOAT_SIGNATURE: predict_float_embeddings.get_concrete_function(),
  }
  if reference is not None:
    model.reference_map = ReferenceMap(reference)
    functions[features.REFERENCE_MAP_SIGNATURE] = model.reference_map.lookup
  return functions


METHOD_NAMES = {features.CLASSIFY_SIGNATURE: features.CLASSIFY_METHOD}


def save_model(model: tf_keras.Model, export_dir: str, tft_output: tft.TFTransformOutput,
               class_names: Sequence[str], map_projection: Optional[tf_keras.Model] = None,
               reference: Optional[ReferenceSet] = None) -> None:
  """Saves ``model`` with make_signatures' signatures, their TF Serving method names and the
  labels file."""
  model.save(export_dir, save_format='tf', signatures=make_signatures(
      model, tft_output, class_names, map_projection, reference))
  set_method_names(export_dir, METHOD_NAMES)
  tf.io.gfile.makedirs(os.path.join(export_dir, warmup.WARMUP_DIR))
  with tf.io.gfile.GFile(os.path.join(export_dir, warmup.WARMUP_DIR, features.LABELS_FILE),
                         'w') as f:
    f.write(''.join(f'{name}\n' for name in class_names))


def set_method_names(export_dir: str, method_names: Mapping[str, str]) -> None:
  """Sets the SignatureDefs' method names in ``saved_model.pb`` (replaced atomically).

  Raises:
    KeyError: a named signature is not in the SavedModel.
  """
  from tensorflow.core.protobuf import saved_model_pb2  # pylint: disable=import-outside-toplevel
  path = os.path.join(export_dir, 'saved_model.pb')
  proto = saved_model_pb2.SavedModel.FromString(tf.io.gfile.GFile(path, 'rb').read())
  for meta_graph in proto.meta_graphs:
    for key, method in method_names.items():
      if key not in meta_graph.signature_def:
        raise KeyError(f'{export_dir}: no signature {key!r}')
      meta_graph.signature_def[key].method_name = method
  with tf.io.gfile.GFile(path + '.tmp', 'wb') as f:
    f.write(proto.SerializeToString())
  tf.io.gfile.rename(path + '.tmp', path, overwrite=True)

"""SavedModel signatures: the parser matches TFXIO, and every signature agrees on a clip."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
from tfx_bsl.public.tfxio import TensorFlowDatasetOptions

from envsound.core import features

from envsound.components import local_transform, projection, signatures, trainer_cnn1d
from envsound.components.reference_map import ReferenceSet
from tests.components.conftest import CLASS_NAMES, serialize


def test_parser_gives_what_tfxio_gave_preprocessing_fn(transformed, raw_schema):
  path = transformed['raw']['train']
  source = local_transform.raw_tfxio(path, raw_schema)
  options = TensorFlowDatasetOptions(batch_size=100, shuffle=False, num_epochs=1)
  from_tfxio = next(iter(source.TensorFlowDataset(options)))
  records = [r.numpy() for r in tf.data.TFRecordDataset(path)]
  parsed = signatures.parse_raw_examples(tf.constant(records), with_label=True)

  want, got = from_tfxio[features.AUDIO_EMBEDDING_KEY], parsed[features.AUDIO_EMBEDDING_KEY]
  assert isinstance(got, tf.RaggedTensor) and got.ragged_rank == want.ragged_rank == 2
  assert got.row_splits.dtype == want.row_splits.dtype == tf.int64
  assert got.to_list() == want.to_list()
  want_env = tf.sparse.to_dense(from_tfxio[features.ENVIRONMENT_KEY]).numpy()
  np.testing.assert_array_equal(
      tf.sparse.to_dense(parsed[features.ENVIRONMENT_KEY]).numpy(), want_env)


def test_embedding_to_raw_rebuilds_the_frame_strings():
  embedding = np.random.default_rng(0).integers(0, 256, [2, 3, 128], dtype=np.uint8)
  raw = signatures.embedding_to_raw(tf.constant(embedding))[features.AUDIO_EMBEDDING_KEY]
  assert raw.to_list() == [[[row.tobytes()] for row in clip] for clip in embedding]


@pytest.fixture(scope='module')
def saved_model(transformed, tmp_path_factory):
  """An untrained model exported with a map: (loaded, model, tft_output, path, net, reference)."""
  tft_output = tft.TFTransformOutput(transformed['transform_graph'])
  model = trainer_cnn1d.build_model(trainer_cnn1d.Hparams(filters=8, hidden=6),
                                    len(CLASS_NAMES))
  rng = np.random.default_rng(0)
  points = rng.normal(size=[7, 6]).astype(np.float32)
  net = projection.fit_projection(points, rng.normal(size=[7, 2]), seed=0, epochs=2)
  reference = ReferenceSet(np.array([f'v{i}:{i * 10}' for i in range(7)]),
                           np.array([CLASS_NAMES[i % 3] for i in range(7)]), points,
                           net.predict(points, verbose=0))
  path = str(tmp_path_factory.mktemp('model') / 'serving')
  signatures.save_model(model, path, tft_output, CLASS_NAMES, net, reference)
  return tf.saved_model.load(path), model, tft_output, path, net, reference


def test_all_prediction_signatures_agree(saved_model, transformed):
  loaded, *_ = saved_model
  clips = transformed['clips']['eval'][:6]  # frame counts 10, 7, 12
  embeddings = [c for c, _ in clips]
  from_examples = loaded.signatures[features.SERVING_SIGNATURE](
      examples=tf.constant([serialize(e) for e in embeddings]))  # no environment feature
  for i, embedding in enumerate(embeddings):
    from_uint8 = loaded.signatures[features.UINT8_SIGNATURE](
        embedding=tf.constant(embedding[None]))
    from_float = loaded.signatures[features.FLOAT_SIGNATURE](
        embedding=tf.constant(features.dequantize(embedding[None].astype(np.float32))))
    for out in (from_uint8, from_float):
      assert set(out) == set(features.PREDICTION_OUTPUTS)
      for key in (features.PROBABILITIES, features.TOP_SCORE, features.PENULTIMATE,
                  features.MAP_XY):
        np.testing.assert_allclose(out[key].numpy()[0], from_examples[key].numpy()[i],
                                   rtol=1e-5, atol=1e-6)
      assert out[features.TOP_CLASS].numpy()[0] == from_examples[features.TOP_CLASS].numpy()[i]


def test_outputs_are_dense_batch_first_and_match_the_keras_model(saved_model, transformed):
  loaded, model, tft_output, *_ = saved_model
  embedding = np.stack([c for c, _ in transformed['clips']['eval'][:3]])[:, :10]
  out = loaded.signatures[features.UINT8_SIGNATURE](embedding=tf.constant(embedding))
  probs = out[features.PROBABILITIES].numpy()
  assert probs.shape == (3, len(CLASS_NAMES))
  np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
  assert out[features.CLASS_NAMES].numpy().tolist() == [[c.encode() for c in CLASS_NAMES]] * 3
  assert [c.decode() for c in out[features.TOP_CLASS].numpy()] == [
      CLASS_NAMES[i] for i in probs.argmax(1)]
  np.testing.assert_allclose(out[features.TOP_SCORE].numpy(), probs.max(1), rtol=1e-6)
  assert out[features.PENULTIMATE].shape == (3, 6)
  # Same as transforming with the TFT layer and calling the Keras model directly.
  raw = signatures.embedding_to_raw(tf.constant(embedding))
  xf = tft_output.transform_features_layer()(raw)
  direct = model({k: xf[k] for k in (features.AUDIO_EMBEDDING_XF, features.MASK_XF)})
  np.testing.assert_allclose(probs, direct.numpy(), rtol=1e-5, atol=1e-6)


def test_classify_signature_takes_frame_examples_and_is_marked_for_tf_serving(saved_model,
                                                                             transformed):
  from envsound.core.records import encode_clip_example  # pylint: disable=import-outside-toplevel
  from envsound.core import warmup  # pylint: disable=import-outside-toplevel
  loaded, _, _, path, *_ = saved_model
  clips = [c for c, _ in transformed['clips']['eval'][:9]]  # 10, 7 and 12 frames
  out = loaded.signatures[features.CLASSIFY_SIGNATURE](
      inputs=tf.constant([encode_clip_example(c) for c in clips]))
  from_examples = loaded.signatures[features.SERVING_SIGNATURE](
      examples=tf.constant([serialize(c) for c in clips]))
  np.testing.assert_allclose(out[features.CLASSIFY_SCORES].numpy(),
                             from_examples[features.PROBABILITIES].numpy(), rtol=1e-5, atol=1e-6)
  assert out[features.CLASSIFY_CLASSES].numpy().tolist() == [[c.encode() for c in CLASS_NAMES]] * 9
  methods = {k: v.method_name for k, v in warmup.read_signature_defs(path).items()}
  assert methods[features.CLASSIFY_SIGNATURE] == features.CLASSIFY_METHOD
  assert methods[features.UINT8_SIGNATURE] == 'tensorflow/serving/predict'
  assert set(warmup.read_signature_defs(path)[features.CLASSIFY_SIGNATURE].inputs) == {
      features.CLASSIFY_INPUT}


def test_transform_features_signature_emits_the_label(saved_model, transformed):
  loaded, *_ = saved_model
  clips = transformed['clips']['eval'][:4]
  out = loaded.signatures[features.TRANSFORM_SIGNATURE](
      examples=tf.constant([serialize(e, env) for e, env in clips]))
  assert out[features.LABEL_XF].numpy().tolist() == [env for _, env in clips]
  assert out[features.AUDIO_EMBEDDING_XF].shape == (4, 1280)


def test_clips_grouped_by_frame_count_embed_as_they_do_alone(saved_model, transformed):
  """What the serving client sends (serving/tensors.group_clips): no clip is zero-padded,
  because zero frames would count as sound; the graph pads and masks each clip itself."""
  from envsound.serving import tensors  # pylint: disable=import-outside-toplevel
  loaded, *_ = saved_model
  predict = loaded.signatures[features.UINT8_SIGNATURE]
  clips = [c for c, _ in transformed['clips']['eval'][:9]]
  assert {len(c) for c in clips} == {7, 10, 12}
  alone = [predict(embedding=tf.constant(c[None]))[features.PENULTIMATE].numpy()[0]
           for c in clips]
  for group in tensors.group_clips(clips):
    out = predict(embedding=tf.constant(group.batch))[features.PENULTIMATE].numpy()
    for row, index in zip(out, group.indices):
      np.testing.assert_allclose(row, alone[index], rtol=1e-5, atol=1e-6)
  short = next(c for c in clips if len(c) < features.NUM_FRAMES)
  padded = np.concatenate([short, np.zeros((features.NUM_FRAMES - len(short), 128), np.uint8)])
  zero_padded = predict(embedding=tf.constant(padded[None]))[features.PENULTIMATE].numpy()[0]
  short_alone = predict(embedding=tf.constant(short[None]))[features.PENULTIMATE].numpy()[0]
  assert np.abs(zero_padded - short_alone).max() > 1e-4  # why the client must not pad


def test_map_xy_is_the_projection_of_the_penultimate_embedding(saved_model, transformed):
  loaded, *_, net, _ = saved_model
  embedding = np.stack([c for c, _ in transformed['clips']['eval'][:3]])[:, :10]
  out = loaded.signatures[features.UINT8_SIGNATURE](embedding=tf.constant(embedding))
  assert out[features.MAP_XY].shape == (3, 2)
  np.testing.assert_allclose(out[features.MAP_XY].numpy(),
                             net(out[features.PENULTIMATE]).numpy(), rtol=1e-5, atol=1e-5)


def test_reference_map_returns_the_stored_rows_and_rejects_bad_indices(saved_model):
  loaded, _, _, path, _, reference = saved_model
  lookup = loaded.signatures[features.REFERENCE_MAP_SIGNATURE]
  index = np.array([6, 0, 3, 3], np.int64)
  out = lookup(index=tf.constant(index))
  assert out[features.REFERENCE_COUNT].numpy().tolist() == [7] * 4
  assert [c.decode() for c in out[features.REFERENCE_CLIP_ID].numpy()] == [
      reference.clip_ids[i] for i in index]
  assert [e.decode() for e in out[features.REFERENCE_ENVIRONMENT].numpy()] == [
      reference.environments[i] for i in index]
  np.testing.assert_array_equal(out[features.MAP_XY].numpy(), reference.xy[index])
  np.testing.assert_array_equal(out[features.PENULTIMATE].numpy(), reference.penultimate[index])
  for bad in ([7], [0, -1]):
    with pytest.raises(tf.errors.InvalidArgumentError, match='index outside 0..count-1'):
      lookup(index=tf.constant(bad, tf.int64))
  from envsound.core import warmup  # pylint: disable=import-outside-toplevel
  signature = warmup.read_signature_defs(path)[features.REFERENCE_MAP_SIGNATURE]
  assert signature.method_name == 'tensorflow/serving/predict'
  assert set(signature.outputs) == {features.REFERENCE_COUNT, features.REFERENCE_CLIP_ID,
                                    features.REFERENCE_ENVIRONMENT, features.MAP_XY,
                                    features.PENULTIMATE}
  for info in signature.outputs.values():  # batch-first, so TF Serving can batch it
    assert info.tensor_shape.dim[0].size == -1

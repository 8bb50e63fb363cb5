"""Approach 3's feature-level attention model: builder, pooling, run_fn on the fixture data."""

import json
import os

import numpy as np
import tensorflow as tf
import tf_keras

from envsound.core import features
from envsound.components import trainer_attention, training
from envsound.components import model_layers
from envsound.components.model_layers import PENULTIMATE_LAYER
from tests.components.conftest import CLASS_NAMES, fn_args
from tests.components.trainer_test import _inputs


def test_builder_gives_probabilities_and_a_penultimate_embedding():
  hp = trainer_attention.Hparams(hidden=12, units=32, blocks=3)
  model = trainer_attention.build_model(hp, num_classes=5)
  probs = model(_inputs(), training=False).numpy()
  assert probs.shape == (4, 5)
  np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
  assert model.get_layer(PENULTIMATE_LAYER).output.shape[-1] == 12
  blocks = [l for l in model.layers if isinstance(l, tf_keras.layers.Dense) and l.units == 32]
  assert len(blocks) == 3  # one per-frame dense block each
  assert sum(isinstance(l, tf_keras.layers.BatchNormalization) for l in model.layers) == 3
  np.testing.assert_array_equal(probs, model(_inputs(), training=False).numpy())


def test_pad_frames_do_not_change_the_output():
  model = trainer_attention.build_model(trainer_attention.Hparams(units=16), 3)
  x = _inputs(frames=6)
  noisy = x[features.AUDIO_EMBEDDING_XF].reshape(4, 10, 128).copy()
  noisy[:, 6:] = 5.0
  np.testing.assert_allclose(
      model(x).numpy(),
      model({**x, features.AUDIO_EMBEDDING_XF: noisy.reshape(4, -1)}).numpy(), rtol=1e-5)


def test_feature_attention_pools_each_unit_over_real_frames():
  layer = model_layers.FeatureAttentionPooling(3)
  rng = np.random.default_rng(1)
  x = rng.normal(size=[2, 4, 5]).astype(np.float32)
  mask = np.array([[1, 1, 1, 0], [1, 0, 0, 0]], np.float32)
  out = layer(tf.constant(x), tf.constant(mask)).numpy()
  wa, ba = [w.numpy() for w in layer.attention.weights]
  wv, bv = [w.numpy() for w in layer.value.weights]
  att = 1 / (1 + np.exp(-(x @ wa + ba))) * mask[..., None]
  expected = (att * (x @ wv + bv)).sum(1) / att.sum(1)
  np.testing.assert_allclose(out, expected, rtol=1e-5)
  np.testing.assert_allclose(out[1], x[1, 0] @ wv + bv, rtol=1e-5)  # one real frame


def test_run_fn_trains_and_exports(transformed, tmp_path):
  args = fn_args(transformed, str(tmp_path), epochs=4, units=32, hidden=8, batch_size=16,
                 learning_rate=0.01)
  trainer_attention.run_fn(args)
  with open(os.path.join(args.model_run_dir, training.HISTORY_FILE)) as f:
    record = json.load(f)
  assert record['hparams']['units'] == 32
  assert record['history']['val_accuracy'][-1] > 0.8  # the fixture's classes are easy
  out = tf.saved_model.load(args.serving_model_dir).signatures[features.UINT8_SIGNATURE](
      embedding=tf.zeros([2, 10, 128], tf.uint8))
  assert out[features.PROBABILITIES].shape == (2, len(CLASS_NAMES))

"""The serving and GUI tests' stand-in model keeps envsound's map contract."""

import numpy as np
import pytest
import tensorflow as tf

from envsound.core import features, warmup
from tests.support import tiny_model

CLASSES = ('rail', 'birds', 'music')


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
  path = tiny_model.export_tiny_model(tmp_path_factory.mktemp('tiny'), 3, CLASSES, seed=3)
  return path, tf.saved_model.load(str(path))


def test_reference_rows_are_where_their_clips_are_served(exported):
  _, loaded = exported
  rows = loaded.signatures[features.REFERENCE_MAP_SIGNATURE](
      index=tf.range(tiny_model.REFERENCE_SIZE, dtype=tf.int64))
  assert rows[features.REFERENCE_COUNT].numpy().tolist() == [tiny_model.REFERENCE_SIZE] * (
      tiny_model.REFERENCE_SIZE)
  assert [c.decode() for c in rows[features.REFERENCE_CLIP_ID].numpy()] == (
      tiny_model.reference_clip_ids())
  assert {e.decode() for e in rows[features.REFERENCE_ENVIRONMENT].numpy()} == set(CLASSES)
  served = loaded.signatures[features.UINT8_SIGNATURE](
      embedding=tf.constant(tiny_model.reference_frames(seed=3)))
  assert set(served) == set(features.PREDICTION_OUTPUTS)
  for key in (features.MAP_XY, features.PENULTIMATE):
    np.testing.assert_allclose(served[key].numpy(), rows[key].numpy(), rtol=1e-5, atol=1e-5)
  assert np.ptp(rows[features.MAP_XY].numpy(), axis=0).min() > 0  # a map, not a point


def test_reference_map_is_a_predict_signature_that_rejects_bad_rows(exported):
  path, loaded = exported
  assert warmup.read_signature_defs(path)[features.REFERENCE_MAP_SIGNATURE].method_name == (
      'tensorflow/serving/predict')
  with pytest.raises(tf.errors.InvalidArgumentError, match='index outside'):
    loaded.signatures[features.REFERENCE_MAP_SIGNATURE](
        index=tf.constant([tiny_model.REFERENCE_SIZE], tf.int64))

"""Warm-up records: written from the SavedModel's own signature, and servable."""

import pytest
import tensorflow as tf

from envsound.core import features
from envsound.core import warmup
from tests.support.tiny_model import export_tiny_model


@pytest.fixture(scope='module')
def saved_model(tmp_path_factory):
  return export_tiny_model(tmp_path_factory.mktemp('m'), 1, ['rail', 'birds', 'music'])


@pytest.mark.parametrize('signature', [features.UINT8_SIGNATURE,
                                       features.FLOAT_SIGNATURE,
                                       features.SERVING_SIGNATURE])
def test_records_replay_against_the_model(saved_model, signature):
  path = warmup.write_warmup_requests(saved_model, num_records=3, batch_size=2,
                                      signature_name=signature)
  assert path == str(saved_model / 'assets.extra' / 'tf_serving_warmup_requests')
  logs = list(warmup.read_warmup_requests(saved_model))
  assert len(logs) == 3
  fn = tf.saved_model.load(str(saved_model)).signatures[signature]
  for i, log in enumerate(logs):
    request = log.predict_log.request
    assert request.model_spec.signature_name == signature
    inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
    outputs = fn(**inputs)
    assert outputs[features.PROBABILITIES].shape[0] == 1 + i % 2
  assert sorted(p.name for p in (saved_model / 'assets.extra').iterdir()) == [
      'tf_serving_warmup_requests']


def test_unknown_signature_is_rejected(saved_model):
  with pytest.raises(ValueError, match='no signature'):
    warmup.write_warmup_requests(saved_model, signature_name='nope')

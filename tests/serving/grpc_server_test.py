"""envsound serve answers TF Serving's own gRPC stubs like TF Serving does."""

from concurrent import futures

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2,
                                     get_model_status_pb2, model_management_pb2, predict_pb2)

from envsound.core import records
from envsound.core import features
from tests.serving.conftest import CLASSES, MAX_MESSAGE_BYTES

pytestmark = pytest.mark.integration


def _request(model='cnn1d_balanced', signature=features.UINT8_SIGNATURE, inputs=None,
             version=None, label=None, rows=2):
  request = predict_pb2.PredictRequest()
  request.model_spec.name = model
  request.model_spec.signature_name = signature
  if version is not None:
    request.model_spec.version.value = version
  if label:
    request.model_spec.version_label = label
  if inputs is None:
    inputs = {features.EMBEDDING_INPUT: np.random.default_rng(0).integers(
        0, 256, (rows, features.NUM_FRAMES, features.EMBEDDING_DIM), dtype=np.uint8)}
  for key, value in inputs.items():
    request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
  return request


def _error(call, request):
  with pytest.raises(grpc.RpcError) as e:
    call(request, timeout=30)
  return e.value.code(), e.value.details()


def test_predict_returns_the_contract_outputs(prediction_stub):
  response = prediction_stub.Predict(_request(rows=3), timeout=30)
  assert response.model_spec.version.value == 2  # newest by default
  outputs = {k: tf.make_ndarray(v) for k, v in response.outputs.items()}
  assert set(outputs) == set(features.PREDICTION_OUTPUTS)
  np.testing.assert_allclose(outputs[features.PROBABILITIES].sum(axis=1), 1, rtol=1e-5)
  assert [c.decode() for c in outputs[features.CLASS_NAMES][0]] == list(CLASSES)
  assert outputs[features.TOP_CLASS].shape == (3,)


def test_serving_default_takes_sequence_examples_and_labels_pick_versions(prediction_stub):
  clip = records.encode_clip('v', 0.0, 10.0, [1], np.zeros((10, 128), np.uint8))
  # dtype=object: a numpy bytes array ('S') drops the record's trailing zero bytes.
  examples = np.array([clip] * 2, dtype=object)
  request = _request(signature='', inputs={features.SERIALIZED_INPUT: examples},
                     label='stable', rows=None)
  request.output_filter.append(features.TOP_SCORE)
  response = prediction_stub.Predict(request, timeout=30)
  assert response.model_spec.version.value == 1
  assert list(response.outputs) == [features.TOP_SCORE]


@pytest.mark.parametrize('change,code,message', [
    (dict(model='nope'), grpc.StatusCode.NOT_FOUND, 'Servable not found'),
    (dict(version=9), grpc.StatusCode.NOT_FOUND, 'Specific(cnn1d_balanced, 9)'),
    (dict(label='beta'), grpc.StatusCode.INVALID_ARGUMENT, 'Unrecognized servable version label'),
    (dict(signature='nope'), grpc.StatusCode.FAILED_PRECONDITION, 'signature key "nope"'),
    (dict(inputs={'wrong': np.zeros((1, 10, 128), np.uint8)}), grpc.StatusCode.INVALID_ARGUMENT,
     'alias not found'),
    (dict(inputs={'embedding': np.zeros((1, 10, 64), np.uint8)}),
     grpc.StatusCode.INVALID_ARGUMENT, 'shape'),
    (dict(inputs={'embedding': np.zeros((1, 10, 128), np.float32)}),
     grpc.StatusCode.INVALID_ARGUMENT, 'to be uint8 but float32'),
    (dict(signature='', inputs={'examples': np.array([b'not a record'])}),
     grpc.StatusCode.INVALID_ARGUMENT, 'Invalid protocol message input'),
])
def test_bad_requests_get_tf_serving_codes(prediction_stub, change, code, message):
  got_code, got_message = _error(prediction_stub.Predict, _request(**change))
  assert got_code == code and message in got_message, got_message


def test_oversize_message_is_refused(prediction_stub):
  rows = MAX_MESSAGE_BYTES // (features.NUM_FRAMES * features.EMBEDDING_DIM) + 8
  code, _ = _error(prediction_stub.Predict, _request(rows=rows))
  assert code == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_metadata_and_status(prediction_stub, model_stub):
  request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=['signature_def'])
  request.model_spec.name = 'cnn1d_balanced'
  request.model_spec.version_label = 'canary'
  response = prediction_stub.GetModelMetadata(request, timeout=30)
  signatures = get_model_metadata_pb2.SignatureDefMap()
  response.metadata['signature_def'].Unpack(signatures)
  assert response.model_spec.version.value == 2
  assert {features.SERVING_SIGNATURE, features.UINT8_SIGNATURE,
          features.FLOAT_SIGNATURE} <= set(signatures.signature_def)
  status_request = get_model_status_pb2.GetModelStatusRequest()
  status_request.model_spec.name = 'cnn1d_balanced'
  states = model_stub.GetModelStatus(status_request, timeout=30).model_version_status
  assert sorted((s.version, s.state) for s in states) == [(1, 30), (2, 30)]  # AVAILABLE
  status_request.model_spec.name = 'nope'
  assert _error(model_stub.GetModelStatus, status_request)[0] == grpc.StatusCode.NOT_FOUND


def _classify_request(clips, **spec):
  request = classification_pb2.ClassificationRequest()
  request.model_spec.name = 'cnn1d_balanced'
  request.model_spec.signature_name = spec.pop('signature_name', features.CLASSIFY_SIGNATURE)
  for clip in clips:
    request.input.example_list.examples.add().ParseFromString(
        records.encode_clip_example(clip))
  return request


def test_classify_takes_frame_examples_and_matches_predict(prediction_stub):
  clips = [np.random.default_rng(i).integers(0, 256, (n, 128), np.uint8)
           for i, n in enumerate((10, 4, 12))]
  response = prediction_stub.Classify(_classify_request(clips), timeout=30)
  assert response.model_spec.version.value == 2
  for clip, result in zip(clips, response.result.classifications):
    want = prediction_stub.Predict(_request(inputs={features.EMBEDDING_INPUT: clip[None]}),
                                   timeout=30)
    probabilities = tf.make_ndarray(want.outputs[features.PROBABILITIES])[0]
    assert [c.label for c in result.classes] == list(CLASSES)
    np.testing.assert_allclose([c.score for c in result.classes], probabilities, rtol=1e-5)
  assert len(response.result.classifications) == 3


def test_classify_needs_a_classification_signature(prediction_stub):
  request = _classify_request([np.zeros((10, 128), np.uint8)],
                              signature_name=features.UINT8_SIGNATURE)
  code, message = _error(prediction_stub.Classify, request)
  assert code == grpc.StatusCode.INVALID_ARGUMENT and 'classify' in message
  code, message = _error(prediction_stub.Classify, _classify_request([]))
  assert code == grpc.StatusCode.INVALID_ARGUMENT and 'empty' in message


def test_reload_config_with_a_bad_config_keeps_serving(model_stub, prediction_stub):
  request = model_management_pb2.ReloadConfigRequest()
  request.config.model_config_list.config.add(name='x', base_path='relative/path')
  response = model_stub.HandleReloadConfigRequest(request, timeout=30)
  assert response.status.error_code != 0 and 'absolute' in response.status.error_message
  assert prediction_stub.Predict(_request(), timeout=30).model_spec.version.value == 2


def test_concurrent_load_gives_each_client_its_own_values(prediction_stub, serving_dir):
  """Clients of both dtypes and several sizes (some split by the server's batching) at once
  get what the exported model itself computes for their own clips."""
  reference = tf.saved_model.load(str(serving_dir / 'cnn1d_balanced' / '2'))
  rng = np.random.default_rng(11)
  calls = []
  for i in range(48):
    clips = rng.integers(0, 256, (1 + i % 4 + 36 * (i % 12 == 0), 3 + i % 8,
                                  features.EMBEDDING_DIM), np.uint8)
    signature = features.FLOAT_SIGNATURE if i % 3 == 0 else features.UINT8_SIGNATURE
    calls.append((signature, clips if signature == features.UINT8_SIGNATURE
                  else features.dequantize(clips.astype(np.float32))))
  def call(args):
    signature, clips = args
    response = prediction_stub.Predict(
        _request(signature=signature, inputs={features.EMBEDDING_INPUT: clips}), timeout=60)
    return tf.make_ndarray(response.outputs[features.PROBABILITIES])
  with futures.ThreadPoolExecutor(16) as pool:
    results = list(pool.map(call, calls))
  for (signature, clips), got in zip(calls, results):
    want = reference.signatures[signature](**{features.EMBEDDING_INPUT: tf.constant(clips)})
    np.testing.assert_allclose(got, want[features.PROBABILITIES].numpy(), rtol=1e-5,
                               atol=1e-6, err_msg=f'{signature} {clips.shape}')

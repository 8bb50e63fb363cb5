"""envsound serve's REST front answers TF Serving's REST API: status, metadata, :predict.

Runs against the session server (tests/serving/conftest.py); the expected outputs come from
the same server's gRPC Predict, so both fronts must agree on every value.
"""

import base64
import json
import urllib.error
import urllib.request

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from envsound.core import records
from envsound.core import features
from tests.serving.conftest import CLASSES, MAX_MESSAGE_BYTES

pytestmark = pytest.mark.integration

MODEL = 'cnn1d_balanced'
CLIPS = np.random.default_rng(5).integers(
    0, 256, (3, features.NUM_FRAMES, features.EMBEDDING_DIM), dtype=np.uint8)
FLOATS = features.dequantize(CLIPS.astype(np.float32))


def _call(server, path, body=None, method=None):
  """(HTTP status, parsed JSON body); error bodies must be JSON too."""
  data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
  request = urllib.request.Request(server.rest_url + path, data=data, method=method)
  try:
    with urllib.request.urlopen(request, timeout=60) as response:
      return response.status, json.loads(response.read())
  except urllib.error.HTTPError as e:
    with e:
      return e.code, json.loads(e.read())


def _grpc_predict(stub, signature, inputs, version=None):
  request = predict_pb2.PredictRequest()
  request.model_spec.name = MODEL
  request.model_spec.signature_name = signature
  if version is not None:
    request.model_spec.version.value = version
  request.inputs[next(iter(inputs))].CopyFrom(tf.make_tensor_proto(next(iter(inputs.values()))))
  response = stub.Predict(request, timeout=60)
  outputs = {k: tf.make_ndarray(v) for k, v in response.outputs.items()}
  for key in (features.TOP_CLASS, features.CLASS_NAMES):
    outputs[key] = np.vectorize(bytes.decode, otypes=[object])(outputs[key])
  return response.model_spec.version.value, outputs


def _assert_same(columns, expected):
  """REST outputs (column -> nested lists) equal gRPC's (column -> ndarray)."""
  assert set(columns) == set(expected) == set(features.PREDICTION_OUTPUTS)
  for key, want in expected.items():
    got = np.array(columns[key], dtype=want.dtype)
    if want.dtype == object:
      assert got.tolist() == want.tolist(), key
    else:
      np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, err_msg=key)


def _rows_to_columns(predictions):
  return {key: [row[key] for row in predictions] for key in predictions[0]}


# --- status and metadata -------------------------------------------------------------

def _versions(body):
  return {(s['version'], s['state'], s['status']['error_code']) for s in
          body['model_version_status']}


@pytest.mark.parametrize('spec,expected', [
    ('', {('1', 'AVAILABLE', 'OK'), ('2', 'AVAILABLE', 'OK')}),
    ('/versions/1', {('1', 'AVAILABLE', 'OK')}),
    ('/labels/stable', {('1', 'AVAILABLE', 'OK')}),
    ('/labels/canary', {('2', 'AVAILABLE', 'OK')}),
])
def test_model_status(server, spec, expected):
  code, body = _call(server, f'/v1/models/{MODEL}{spec}')
  assert code == 200
  assert _versions(body) == expected


@pytest.mark.parametrize('spec,version', [('', '2'), ('/versions/1', '1'),
                                          ('/labels/stable', '1'), ('/labels/canary', '2')])
def test_metadata_has_the_signatures_of_the_version_asked_for(server, spec, version):
  code, body = _call(server, f'/v1/models/{MODEL}{spec}/metadata')
  assert code == 200
  assert body['model_spec'] == {'name': MODEL, 'signature_name': '', 'version': version}
  signatures = body['metadata']['signature_def']['signature_def']
  assert {features.SERVING_SIGNATURE, features.UINT8_SIGNATURE,
          features.FLOAT_SIGNATURE} <= set(signatures)
  uint8 = signatures[features.UINT8_SIGNATURE]
  assert uint8['method_name'] == 'tensorflow/serving/predict'
  (alias, info), = uint8['inputs'].items()
  assert alias == features.EMBEDDING_INPUT and info['dtype'] == 'DT_UINT8'
  assert [d['size'] for d in info['tensor_shape']['dim']] == ['-1', '-1', '128']
  assert set(uint8['outputs']) == set(features.PREDICTION_OUTPUTS)
  assert signatures[features.FLOAT_SIGNATURE]['inputs'][
      features.EMBEDDING_INPUT]['dtype'] == 'DT_FLOAT'
  assert signatures[features.SERVING_SIGNATURE]['inputs'][
      features.SERIALIZED_INPUT]['dtype'] == 'DT_STRING'


# --- :predict ------------------------------------------------------------------------

@pytest.mark.parametrize('signature,values', [(features.UINT8_SIGNATURE, CLIPS),
                                              (features.FLOAT_SIGNATURE, FLOATS)],
                         ids=['uint8', 'float32'])
def test_row_and_columnar_predict_match_grpc(server, prediction_stub, signature, values):
  _, expected = _grpc_predict(prediction_stub, signature, {features.EMBEDDING_INPUT: values})
  code, row = _call(server, f'/v1/models/{MODEL}:predict',
                    {'signature_name': signature, 'instances': values.tolist()})
  assert code == 200, row
  assert len(row['predictions']) == len(values)
  _assert_same(_rows_to_columns(row['predictions']), expected)
  code, named = _call(server, f'/v1/models/{MODEL}:predict', {
      'signature_name': signature,
      'instances': [{features.EMBEDDING_INPUT: v} for v in values.tolist()]})
  assert code == 200, named
  assert named['predictions'] == row['predictions']
  code, columnar = _call(server, f'/v1/models/{MODEL}:predict', {
      'signature_name': signature, 'inputs': {features.EMBEDDING_INPUT: values.tolist()}})
  assert code == 200, columnar
  _assert_same(columnar['outputs'], expected)
  assert list(columnar['outputs'][features.CLASS_NAMES][0]) == list(CLASSES)


def test_uint8_and_float_inputs_give_the_same_predictions(server):
  _, uint8 = _call(server, f'/v1/models/{MODEL}:predict', {
      'signature_name': features.UINT8_SIGNATURE, 'inputs': CLIPS.tolist()})
  _, floats = _call(server, f'/v1/models/{MODEL}:predict', {
      'signature_name': features.FLOAT_SIGNATURE, 'inputs': FLOATS.tolist()})
  np.testing.assert_allclose(uint8['outputs'][features.PROBABILITIES],
                             floats['outputs'][features.PROBABILITIES], rtol=1e-5)


def test_serialized_examples_as_b64_on_serving_default(server, prediction_stub):
  examples = np.array([records.encode_clip(f'c{i}', 0.0, 10.0, [1], clip)
                       for i, clip in enumerate(CLIPS)], dtype=object)
  _, expected = _grpc_predict(prediction_stub, '', {features.SERIALIZED_INPUT: examples})
  code, body = _call(server, f'/v1/models/{MODEL}:predict', {
      'instances': [{'b64': base64.b64encode(e).decode()} for e in examples]})
  assert code == 200, body
  _assert_same(_rows_to_columns(body['predictions']), expected)


@pytest.mark.parametrize('spec,version', [('/versions/1', 1), ('/labels/stable', 1),
                                          ('/labels/canary', 2), ('', 2)])
def test_predict_goes_to_the_version_or_label_asked_for(server, prediction_stub, spec, version):
  _, expected = _grpc_predict(prediction_stub, features.UINT8_SIGNATURE,
                              {features.EMBEDDING_INPUT: CLIPS}, version=version)
  _, other = _grpc_predict(prediction_stub, features.UINT8_SIGNATURE,
                           {features.EMBEDDING_INPUT: CLIPS}, version=3 - version)
  assert not np.allclose(expected[features.PROBABILITIES], other[features.PROBABILITIES])
  code, body = _call(server, f'/v1/models/{MODEL}{spec}:predict', {
      'signature_name': features.UINT8_SIGNATURE, 'inputs': CLIPS.tolist()})
  assert code == 200, body
  _assert_same(body['outputs'], expected)


# --- errors --------------------------------------------------------------------------

GOOD = {'signature_name': features.UINT8_SIGNATURE, 'instances': CLIPS[:1].tolist()}


def _predict_body(**change):
  return dict(GOOD, **change)


ERRORS = [  # (id, path, body, HTTP status, part of the message)
    ('status: unknown model', '/v1/models/nope', None, 404,
     'Could not find any versions of model nope'),
    ('status: unknown version', f'/v1/models/{MODEL}/versions/9', None, 404,
     f'version 9 of model {MODEL}'),
    ('status: unknown label', f'/v1/models/{MODEL}/labels/beta', None, 400,
     'Unrecognized servable version label: beta'),
    ('status: version not a number', f'/v1/models/{MODEL}/versions/latest', None, 404,
     f'Malformed request: GET /v1/models/{MODEL}/versions/latest'),
    ('metadata: unknown model', '/v1/models/nope/metadata', None, 404,
     'Servable not found for request: Latest(nope)'),
    ('metadata: unknown version', f'/v1/models/{MODEL}/versions/9/metadata', None, 404,
     f'Specific({MODEL}, 9)'),
    ('metadata: unknown label', f'/v1/models/{MODEL}/labels/beta/metadata', None, 400,
     'Unrecognized servable version label: beta'),
    ('predict: unknown model', '/v1/models/nope:predict', GOOD, 404,
     'Servable not found for request: Latest(nope)'),
    ('predict: unknown version', f'/v1/models/{MODEL}/versions/9:predict', GOOD, 404,
     f'Specific({MODEL}, 9)'),
    ('predict: unknown label', f'/v1/models/{MODEL}/labels/beta:predict', GOOD, 400,
     'Unrecognized servable version label: beta'),
    ('bad JSON', f'/v1/models/{MODEL}:predict', b'{"instances": [1,', 400, 'JSON Parse error'),
    ('JSON nested too deeply', f'/v1/models/{MODEL}:predict', b'[' * 5000 + b']' * 5000, 400,
     'JSON Parse error'),
    ('body not an object', f'/v1/models/{MODEL}:predict', [GOOD], 400, 'must be an object'),
    ('no instances or inputs', f'/v1/models/{MODEL}:predict',
     {'signature_name': features.UINT8_SIGNATURE}, 400, "Missing 'inputs' or 'instances'"),
    ('instances and inputs', f'/v1/models/{MODEL}:predict',
     _predict_body(inputs=GOOD['instances']), 400, "Only one of 'instances' or 'inputs'"),
    ('columnar: wrong input name', f'/v1/models/{MODEL}:predict',
     {'signature_name': features.UINT8_SIGNATURE, 'inputs': {'wrong': CLIPS[:1].tolist()}},
     400, 'input tensor alias not found in signature: wrong'),
    ('row: wrong input name', f'/v1/models/{MODEL}:predict',
     _predict_body(instances=[{'wrong': CLIPS[0].tolist()}]), 400,
     'input tensor alias not found in signature: wrong'),
    ('wrong shape', f'/v1/models/{MODEL}:predict',
     _predict_body(instances=CLIPS[:1, :, :64].tolist()), 400,
     'has shape [1, 10, 64]; the signature expects [None, None, 128]'),
    ('floats for uint8', f'/v1/models/{MODEL}:predict',
     _predict_body(instances=FLOATS[:1].tolist()), 400, 'cannot convert to uint8'),
    ('out of uint8 range', f'/v1/models/{MODEL}:predict',
     _predict_body(instances=[[[256] * 128] * 10]), 400, 'values outside uint8'),
    ('unknown signature', f'/v1/models/{MODEL}:predict', _predict_body(signature_name='nope'),
     400, 'Serving signature key "nope" not found.'),
    ('classify', f'/v1/models/{MODEL}:classify', GOOD, 501, 'not supported'),
    ('GET on :predict', f'/v1/models/{MODEL}:predict', None, 405,
     f'Malformed request: GET /v1/models/{MODEL}:predict'),
]


@pytest.mark.parametrize('path,body,status,message',
                         [pytest.param(*case[1:], id=case[0]) for case in ERRORS])
def test_errors_have_tf_serving_status_and_json_body(server, path, body, status, message):
  code, answer = _call(server, path, body)
  assert code == status, answer
  assert set(answer) == {'error'} and message in answer['error']


def test_oversize_body_is_refused_and_the_server_keeps_serving(server):
  filler = 'x' * (MAX_MESSAGE_BYTES + 1024)
  code, answer = _call(server, f'/v1/models/{MODEL}:predict',
                       _predict_body(pad=filler))
  assert code == 413 and f'larger than {MAX_MESSAGE_BYTES} bytes' in answer['error']
  code, answer = _call(server, f'/v1/models/{MODEL}:predict', GOOD)
  assert code == 200 and len(answer['predictions']) == 1

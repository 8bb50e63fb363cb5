"""The client library against a running envsound serve: models, metadata, predict, errors.

Reads from the session server (tests/serving/conftest.py: cnn1d_balanced 1 = stable and
2 = canary, cnn2d_balanced 1 = both, a 1 MiB message limit). Expected predictions come
from the server's own gRPC Predict, called with raw TensorProtos, not through the client.
"""

import threading
import time
from concurrent import futures

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from envsound.core import features
from envsound.core.errors import InvalidInputError
from envsound.serving import model_config
from envsound.serving.client import Client
from envsound.serving.client_errors import (InvalidRequestError, MessageTooLargeError,
                                            ModelNotFoundError, NoReferenceMapError,
                                            RequestTimeoutError, ServerUnavailableError)
from envsound.serving.local_server import ModelServer
from envsound.serving.options import ServerOptions
from tests.serving.conftest import CLASSES, MAX_MESSAGE_BYTES
from tests.support import tiny_model
from tests.support.ports import free_port

pytestmark = pytest.mark.integration

MODEL = 'cnn1d_balanced'
RNG = np.random.default_rng(11)
CLIPS = RNG.integers(0, 256, (40, features.NUM_FRAMES, features.EMBEDDING_DIM), np.uint8)


@pytest.fixture(scope='module')
def client(server):
  with Client(server.grpc_target) as c:
    yield c


def _grpc_probabilities(stub, clips, version=None):
  """Probabilities for one request of raw clips (the model pads/cuts frames itself)."""
  request = predict_pb2.PredictRequest()
  request.model_spec.name = MODEL
  request.model_spec.signature_name = (features.UINT8_SIGNATURE if clips.dtype == np.uint8
                                       else features.FLOAT_SIGNATURE)
  if version is not None:
    request.model_spec.version.value = version
  request.inputs[features.EMBEDDING_INPUT].CopyFrom(tf.make_tensor_proto(clips))
  request.output_filter.append(features.PROBABILITIES)
  response = stub.Predict(request, timeout=60)
  return tf.make_ndarray(response.outputs[features.PROBABILITIES])


# --- models and metadata -------------------------------------------------------------

def _summary(models):
  return {m.name: [(v.version, v.state, tuple(sorted(v.labels))) for v in m.versions]
          for m in models}


EXPECTED_MODELS = {
    'cnn1d_balanced': [(2, 'AVAILABLE', ('canary',)), (1, 'AVAILABLE', ('stable',))],
    'cnn2d_balanced': [(1, 'AVAILABLE', ('canary', 'stable'))],
}


def test_list_models_shows_versions_and_labels(server, serving_dir, client):
  assert _summary(client.list_models()) == EXPECTED_MODELS  # cnn1d_150k is not served
  config = model_config.read_model_server_config(serving_dir / 'models.config')
  with Client.from_model_config(server.grpc_target, config) as c:
    assert _summary(c.list_models()) == EXPECTED_MODELS
  assert _summary(client.list_models(['cnn2d_balanced', 'nope'])) == {
      'cnn2d_balanced': EXPECTED_MODELS['cnn2d_balanced']}


def test_model_status(client):
  assert [(v.version, v.state, v.error) for v in client.model_status(MODEL)] == [
      (2, 'AVAILABLE', ''), (1, 'AVAILABLE', '')]
  assert [v.version for v in client.model_status(MODEL, version=1)] == [1]


@pytest.mark.parametrize('kwargs,version', [({}, 2), ({'version': 1}, 1),
                                            ({'label': 'stable'}, 1), ({'label': 'canary'}, 2)])
def test_metadata_gives_signatures_and_class_names(client, kwargs, version):
  meta = client.metadata(MODEL, **kwargs)
  assert (meta.name, meta.version, meta.class_names) == (MODEL, version, CLASSES)
  uint8 = meta.signatures[features.UINT8_SIGNATURE]
  assert uint8['method'] == 'tensorflow/serving/predict'
  assert uint8['inputs'] == {features.EMBEDDING_INPUT: ('uint8', (None, None, 128))}
  assert set(uint8['outputs']) == set(features.PREDICTION_OUTPUTS)
  assert uint8['outputs'][features.PROBABILITIES] == ('float32', (None, len(CLASSES)))
  assert meta.signatures[features.FLOAT_SIGNATURE]['inputs'] == {
      features.EMBEDDING_INPUT: ('float32', (None, None, 128))}
  assert meta.signatures[features.SERVING_SIGNATURE]['inputs'] == {
      features.SERIALIZED_INPUT: ('string', (None,))}


# --- predict -------------------------------------------------------------------------

def test_mixed_uint8_and_float_clips_of_any_length(client, prediction_stub):
  clips = [CLIPS[0],                                                    # uint8, 10 frames
           features.dequantize(CLIPS[1].astype(np.float32)),            # float32
           CLIPS[2][:7],                                                # uint8, padded
           RNG.uniform(-2, 2, (12, 128)).astype(np.float64)]            # float64, cut
  result = client.predict(MODEL, clips)
  assert (result.model_name, result.model_version, result.class_names) == (MODEL, 2, CLASSES)
  assert len(result) == 4 and result.probabilities.shape == (4, len(CLASSES))
  assert result.embedding.shape[0] == 4 and result.top_score.shape == (4,)
  assert result.map_xy.shape == (4, 2) and result.map_xy.dtype == np.float32
  # Each clip sent alone, in its own dtype and length: the model pads/cuts it itself.
  expected = np.concatenate([
      _grpc_probabilities(prediction_stub, (c if c.dtype == np.uint8 else
                                            c.astype(np.float32))[np.newaxis])
      for c in clips])
  np.testing.assert_allclose(result.probabilities, expected, rtol=1e-5, atol=1e-6)
  assert result.top_class == [CLASSES[i] for i in expected.argmax(axis=1)]
  np.testing.assert_allclose(result.top_score, expected.max(axis=1), rtol=1e-5)


def test_chunked_predict_returns_the_rows_of_one_request(server, prediction_stub):
  expected = _grpc_probabilities(prediction_stub, CLIPS, version=1)
  # About 8 clips per request: 5 requests, all to the version the label named first.
  with Client(server.grpc_target, max_message_bytes=16 << 10) as small:
    result = small.predict(MODEL, CLIPS, label='stable')
  assert result.model_version == 1 and result.class_names == CLASSES
  np.testing.assert_allclose(result.probabilities, expected, rtol=1e-6, atol=1e-7)
  assert len(result.top_class) == len(result.top_score) == len(result.embedding) == len(CLIPS)


def test_a_batch_over_the_servers_limit_is_split_to_its_message_size(server, prediction_stub):
  big = RNG.uniform(-2, 2, (600, features.NUM_FRAMES, features.EMBEDDING_DIM)).astype(np.float32)
  with pytest.raises(grpc.RpcError) as e:  # the server refuses the batch as one message
    _grpc_probabilities(prediction_stub, big)
  assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
  with Client(server.grpc_target, max_message_bytes=MAX_MESSAGE_BYTES) as fitted:
    result = fitted.predict(MODEL, big)
  expected = np.concatenate([_grpc_probabilities(prediction_stub, big[i:i + 150])
                             for i in range(0, len(big), 150)])
  np.testing.assert_allclose(result.probabilities, expected, rtol=1e-6, atol=1e-7)


def test_a_request_over_the_servers_limit_raises_message_too_large(server):
  big = RNG.uniform(-2, 2, (600, features.NUM_FRAMES, features.EMBEDDING_DIM)).astype(np.float32)
  # Told the server takes 8 MiB, the client sends all 600 clips (3 MiB) at once.
  with Client(server.grpc_target, max_message_bytes=8 << 20,
              max_batch_clips=len(big)) as optimistic:
    with pytest.raises(MessageTooLargeError) as e:
      optimistic.predict(MODEL, big)
  assert e.value.code == 'RESOURCE_EXHAUSTED'
  assert str(e.value).startswith(f'{server.grpc_target}, model {MODEL}: ')


# --- errors --------------------------------------------------------------------------

@pytest.mark.parametrize('call,error,code,message', [
    (lambda c: c.predict('nope', CLIPS[:1]), ModelNotFoundError, 'NOT_FOUND',
     'Servable not found for request: Latest(nope)'),
    (lambda c: c.metadata('nope'), ModelNotFoundError, 'NOT_FOUND', 'Latest(nope)'),
    (lambda c: c.model_status('nope'), ModelNotFoundError, 'NOT_FOUND',
     'Could not find any versions of model nope'),
    (lambda c: c.predict(MODEL, CLIPS[:1], version=9), ModelNotFoundError, 'NOT_FOUND',
     f'Specific({MODEL}, 9)'),
    (lambda c: c.metadata(MODEL, version=9), ModelNotFoundError, 'NOT_FOUND',
     f'Specific({MODEL}, 9)'),
    (lambda c: c.predict(MODEL, CLIPS[:1], label='beta'), ModelNotFoundError,
     'INVALID_ARGUMENT', 'Unrecognized servable version label: beta'),
    (lambda c: c.predict(MODEL, CLIPS[:1], signature='nope'), InvalidRequestError,
     'FAILED_PRECONDITION', 'Serving signature key "nope" not found.'),
], ids=['unknown model', 'metadata of unknown model', 'status of unknown model',
        'unknown version', 'metadata of unknown version', 'unknown label', 'unknown signature'])
def test_server_errors_are_typed_one_line_and_name_server_and_model(client, call, error, code,
                                                                   message):
  with pytest.raises(error) as e:
    call(client)
  assert e.value.code == code
  assert str(e.value).startswith(f'{client.target}, model ')
  assert message in str(e.value) and '\n' not in str(e.value)


@pytest.mark.parametrize('clips,error,message', [
    ([CLIPS[0], CLIPS[1][:, :64]], InvalidInputError,
     'clip 1: shape (10, 64), expected [frames, 128]'),
    ([CLIPS[0].astype(np.int32)], InvalidInputError,
     'clip 0: dtype int32, expected uint8 or float'),
    ([], InvalidRequestError, 'no clips to predict'),
])
def test_bad_clips_are_refused_before_sending(client, clips, error, message):
  with pytest.raises(error) as e:
    client.predict(MODEL, clips)
  assert str(e.value).startswith(message)


@pytest.mark.parametrize('kwargs,version', [({}, 2), ({'label': 'stable'}, 1)])
def test_reference_map_gives_the_exported_reference_rows(server, kwargs, version):
  # 5 rows per request: the count, then 24 rows in 5 chunks, all from one version.
  with Client(server.grpc_target, max_batch_clips=5) as small:
    ref = small.reference_map(MODEL, **kwargs)
  assert ref.model_version == version and len(ref) == tiny_model.REFERENCE_SIZE
  assert ref.clip_ids == tiny_model.reference_clip_ids()
  assert ref.environments == [CLASSES[i % len(CLASSES)] for i in range(len(ref))]
  assert ref.xy.shape == (len(ref), 2) and ref.xy.dtype == np.float32
  # The stored rows are what the same version computes for the reference clips' frames.
  with Client(server.grpc_target) as c:
    placed = c.predict(MODEL, tiny_model.reference_frames(seed=version), version=version)
  np.testing.assert_allclose(ref.xy, placed.map_xy, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(ref.penultimate, placed.embedding, rtol=1e-5, atol=1e-5)


@pytest.fixture(scope='module')
def older_export(tmp_path_factory):
  """envsound serve over a model exported before the map: predict_embeddings only."""
  base = tmp_path_factory.mktemp('older') / MODEL

  class Older(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, None, features.EMBEDDING_DIM],
                                                tf.uint8)])
    def predict(self, embedding):
      return {features.TOP_SCORE: tf.reduce_mean(tf.cast(embedding, tf.float32), [1, 2])}

  module = Older()
  tf.saved_model.save(module, str(base / '1'),
                      signatures={features.UINT8_SIGNATURE: module.predict})
  server = ModelServer(ServerOptions(port=free_port(), rest_api_port=0, model_name=MODEL,
                                     model_base_path=str(base),
                                     file_system_poll_wait_seconds=0))
  server.start()
  try:
    yield f'127.0.0.1:{server.grpc_port}'
  finally:
    server.stop()


def test_a_model_without_a_reference_map_says_what_to_do(older_export):
  with Client(older_export) as c, pytest.raises(NoReferenceMapError) as e:
    c.reference_map(MODEL)
  assert str(e.value) == (
      f'{older_export}: model {MODEL} has no reference_map signature (exported by an older '
      'envsound); re-run the pipeline or choose a reference folder')
  assert e.value.code == 'FAILED_PRECONDITION'


def test_a_dead_server_raises_unavailable_after_the_retries():
  target = f'127.0.0.1:{free_port()}'
  with Client(target, timeout_s=5, max_retries=2, backoff_s=0.05) as dead:
    with pytest.raises(ServerUnavailableError) as e:
      dead.predict(MODEL, CLIPS[:1])
  assert e.value.code == 'UNAVAILABLE'  # not DEADLINE_EXCEEDED: no timeout waited
  assert f'{target}, model {MODEL}: unavailable after up to 3 attempts' in str(e.value)


@pytest.fixture
def flaky_server():
  """A real gRPC server whose Predict answers with the codes in ``answers`` in turn (then
  the last one forever), counting the attempts that reach it."""
  state = {'answers': [], 'attempts': 0}

  def predict(request, context):
    del request
    answers = state['answers']
    code = answers[min(state['attempts'], len(answers) - 1)]
    state['attempts'] += 1
    context.abort(code, f'answer {state["attempts"]}: {code.name}')

  handler = grpc.method_handlers_generic_handler('tensorflow.serving.PredictionService', {
      'Predict': grpc.unary_unary_rpc_method_handler(predict)})
  server = grpc.server(futures.ThreadPoolExecutor(2), handlers=[handler])
  port = server.add_insecure_port('127.0.0.1:0')
  server.start()
  try:
    yield f'127.0.0.1:{port}', state
  finally:
    server.stop(None)


@pytest.mark.parametrize('answers,retries,attempts,error,message', [
    ([grpc.StatusCode.UNAVAILABLE], 3, 4, ServerUnavailableError, 'answer 4: UNAVAILABLE'),
    ([grpc.StatusCode.UNAVAILABLE], 8, 5, ServerUnavailableError, 'answer 5: UNAVAILABLE'),
    ([grpc.StatusCode.UNAVAILABLE] * 2 + [grpc.StatusCode.INVALID_ARGUMENT], 3, 3,
     InvalidRequestError, 'answer 3: INVALID_ARGUMENT'),
    ([grpc.StatusCode.INVALID_ARGUMENT], 3, 1, InvalidRequestError,
     'answer 1: INVALID_ARGUMENT'),
    ([grpc.StatusCode.DEADLINE_EXCEEDED], 3, 1, RequestTimeoutError,
     'answer 1: DEADLINE_EXCEEDED'),
], ids=['unavailable every time', 'more retries than gRPC allows', 'unavailable twice',
        'not retryable', 'deadline'])
def test_the_retry_policy_retries_only_unavailable(flaky_server, answers, retries, attempts,
                                                   error, message):
  target, state = flaky_server
  state['answers'] = answers
  with Client(target, timeout_s=10, max_retries=retries, backoff_s=0.01) as flaky:
    with pytest.raises(error) as e:
      flaky.predict(MODEL, CLIPS[:1])
  assert state['attempts'] == attempts
  assert message in str(e.value) and type(e.value) is error


def test_retries_reach_a_server_that_starts_after_the_first_call(serving_dir, prediction_stub):
  """The server is envsound serve's ModelServer: its model is loaded first, and its port opens
  a moment after the client's first call was refused."""
  port = free_port()
  server = ModelServer(ServerOptions(
      port=port, rest_api_port=0, model_name=MODEL, model_base_path=str(serving_dir / MODEL),
      file_system_poll_wait_seconds=0)).load()
  failures, started = [], threading.Event()

  def start_later():
    time.sleep(0.3)
    try:
      server.start()
      started.set()
    except Exception as e:  # pylint: disable=broad-except
      failures.append(e)

  thread = threading.Thread(target=start_later, daemon=True)
  try:
    # Retries after back-offs of about 2, 4, 8 and 16 s; the port opens at 0.3 s and the
    # channel reconnects within its own 1 s (+-20%) reconnect back-off.
    with Client(f'127.0.0.1:{port}', timeout_s=120, max_retries=4, backoff_s=2) as late:
      thread.start()
      assert not started.is_set()  # its port is not open at the first call
      result = late.predict(MODEL, CLIPS[:3])
  finally:
    thread.join(60)
    server.stop()
  assert not failures
  assert started.is_set()
  assert result.model_version == 2 and result.class_names == CLASSES
  np.testing.assert_allclose(result.probabilities, _grpc_probabilities(prediction_stub, CLIPS[:3]),
                             rtol=1e-6, atol=1e-7)


def test_a_call_past_its_timeout_raises_request_timeout(server):
  big = RNG.integers(0, 256, (600, features.NUM_FRAMES, features.EMBEDDING_DIM), np.uint8)
  with Client(server.grpc_target, max_message_bytes=MAX_MESSAGE_BYTES) as c:
    assert c.model_status(MODEL)  # connected: the deadline below is the server's to meet
    c.timeout_s = 0.001
    with pytest.raises(RequestTimeoutError) as e:
      c.predict(MODEL, big)
  assert e.value.code == 'DEADLINE_EXCEEDED' and 'no answer within the timeout' in str(e.value)

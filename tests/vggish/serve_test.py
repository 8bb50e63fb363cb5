"""The exported VGGish served by ``envsound serve`` as model ``vggish``, warm-up included."""

import time

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (get_model_status_pb2, model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

from envsound.core import features
from envsound.vggish import export
from tests.support.server import local_server

pytestmark = pytest.mark.integration
BATCHING_FILE = 'envsound/serving/config/batching_parameters.pbtxt'


def wait_available(channel, timeout_s: float = 120) -> None:
  stub = model_service_pb2_grpc.ModelServiceStub(channel)
  request = get_model_status_pb2.GetModelStatusRequest()
  request.model_spec.name = features.VGGISH_MODEL_NAME
  deadline = time.monotonic() + timeout_s
  while time.monotonic() < deadline:
    try:
      states = stub.GetModelStatus(request, timeout=5).model_version_status
      if any(s.state == s.AVAILABLE for s in states):
        return
    except grpc.RpcError as e:
      if e.code() != grpc.StatusCode.NOT_FOUND:
        raise
    time.sleep(0.3)
  raise TimeoutError(f'vggish not AVAILABLE within {timeout_s:.0f} s')


def predict(channel, signature: str, waveform: np.ndarray):
  request = predict_pb2.PredictRequest()
  request.model_spec.name = features.VGGISH_MODEL_NAME
  request.model_spec.signature_name = signature
  request.inputs[features.WAVEFORM_INPUT].CopyFrom(tf.make_tensor_proto(waveform))
  response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(
      request, timeout=60)
  return {k: tf.make_ndarray(v) for k, v in response.outputs.items()}


@pytest.mark.parametrize('batching', [False, True], ids=['unbatched', 'batched'])
def test_served_embeddings_equal_in_process_ones(model_dir, signatures, tmp_path, batching):
  flags = ['--enable_batching', f'--batching_parameters_file={BATCHING_FILE}'] if batching else []
  audio = np.random.default_rng(5).uniform(-0.4, 0.4, (2, 16000 * 2)).astype(np.float32)
  want = signatures[features.VGGISH_SIGNATURE](waveform=tf.constant(audio))
  with local_server(model_base_path=model_dir.parent, model_name=features.VGGISH_MODEL_NAME,
                    flags=flags, rest=False, log_dir=tmp_path) as server, \
      grpc.insecure_channel(server.grpc_target) as channel:
    wait_available(channel)
    got = predict(channel, features.VGGISH_SIGNATURE, audio)
    np.testing.assert_array_equal(got[features.VGGISH_EMBEDDING],
                                  want[features.VGGISH_EMBEDDING].numpy())
    assert got[features.VGGISH_EMBEDDING].dtype == np.uint8
    np.testing.assert_allclose(got[features.VGGISH_FLOAT_EMBEDDING],
                               want[features.VGGISH_FLOAT_EMBEDDING].numpy(), atol=1e-6)
    if not batching:  # [samples] has no batch dimension: served without batching
      one = predict(channel, features.WAVEFORM_SIGNATURE, audio[1])
      np.testing.assert_array_equal(one[features.VGGISH_EMBEDDING],
                                    want[features.VGGISH_EMBEDDING].numpy()[1])
    assert f'version 1 AVAILABLE ({export.WARMUP_RECORDS} warm-up requests)' in server.log()

"""--monitoring_config_file and the gRPC health service on a running envsound serve.

One server with Prometheus metrics on serves real traffic (gRPC and REST, good and bad
requests, then a config reload dropping a model); the tests read the metrics and health
answers it left. The session server (no monitoring config) has no metrics endpoint.
"""

import json
import urllib.error
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tensorflow_serving.apis import (model_management_pb2, model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

from envsound.core import features
from envsound.core.errors import EnvsoundError
from envsound.serving import local_server, model_config, options
from tests.serving.conftest import BATCHING_FILE
from tests.support import scrape
from tests.support.server import local_server as running_server

pytestmark = pytest.mark.integration

MODEL, OTHER = 'cnn1d_balanced', 'cnn2d_balanced'
PATH = '/monitoring/prometheus/metrics'
GRPC_ROWS = (1, 3, 40)  # 40: split into execution batches of 32 and 8
REST_ROWS = (2, 5)
REQUESTS = ':tensorflow:serving:request_count_total'
LATENCY = ':tensorflow:serving:request_latency'
BATCHING = ':tensorflow:serving:batching_session:'
SERVING, NOT_SERVING = (health_pb2.HealthCheckResponse.SERVING,
                        health_pb2.HealthCheckResponse.NOT_SERVING)


def _clips(rows):
  return np.random.default_rng(rows).integers(
      0, 256, (rows, features.NUM_FRAMES, features.EMBEDDING_DIM), np.uint8)


def _predict(stub, rows, version=None):
  request = predict_pb2.PredictRequest()
  request.model_spec.name = MODEL
  request.model_spec.signature_name = features.UINT8_SIGNATURE
  if version is not None:
    request.model_spec.version.value = version
  request.inputs[features.EMBEDDING_INPUT].CopyFrom(tf.make_tensor_proto(_clips(rows)))
  return stub.Predict(request, timeout=60)


def _rest_predict(url, rows):
  body = json.dumps({'signature_name': features.UINT8_SIGNATURE,
                     'instances': _clips(rows).tolist()}).encode()
  with urllib.request.urlopen(f'{url}/v1/models/{MODEL}:predict', body, timeout=60) as answer:
    return json.loads(answer.read())


def _health(channel, names):
  stub = health_pb2_grpc.HealthStub(channel)
  answers = {}
  for name in names:
    try:
      answers[name] = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=10).status
    except grpc.RpcError as e:
      answers[name] = e.code()
  return answers


@pytest.fixture(scope='module')
def scenario(serving_dir, tmp_path_factory):
  root = tmp_path_factory.mktemp('monitoring')
  monitoring = root / 'monitoring.config'
  monitoring.write_text(f'prometheus_config {{ enable: true, path: "{PATH}" }}\n')
  flags = ['--enable_batching', f'--batching_parameters_file={BATCHING_FILE}',
           f'--monitoring_config_file={monitoring}']
  seen = {}
  with running_server(model_config_file=serving_dir / 'models.config', flags=flags,
                      probe_model=MODEL, log_dir=root) as server, \
      grpc.insecure_channel(server.grpc_target) as channel:
    metrics_url = server.rest_url + PATH
    prediction = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    seen['health before'] = _health(channel, ['', MODEL, OTHER, 'nope'])
    seen['before'] = scrape.scrape(metrics_url)
    for rows in GRPC_ROWS:
      _predict(prediction, rows)
    with pytest.raises(grpc.RpcError) as error:
      _predict(prediction, 1, version=9)
    seen['error code'] = error.value.code()
    for rows in REST_ROWS:
      _rest_predict(server.rest_url, rows)
    seen['after traffic'] = scrape.scrape(metrics_url)
    reload = model_management_pb2.ReloadConfigRequest()
    config = model_config.read_model_server_config(serving_dir / 'models.config')
    reload.config.model_config_list.config.extend(
        c for c in config.model_config_list.config if c.name == MODEL)
    answer = model_service_pb2_grpc.ModelServiceStub(channel).HandleReloadConfigRequest(
        reload, timeout=60)
    seen['reload error'] = answer.status.error_code
    seen['after reload'] = scrape.scrape(metrics_url)
    seen['health after reload'] = _health(channel, ['', MODEL, OTHER])
    with urllib.request.urlopen(metrics_url, timeout=30) as response:
      seen['content type'] = response.headers['Content-Type']
  return seen


def _delta(scenario, name, **labels):
  return (scrape.value(scenario['after traffic'], name, **labels)
          - scrape.value(scenario['before'], name, **labels))


def test_requests_are_counted_by_model_version_api_entrypoint_and_status(scenario):
  assert scenario['content type'].startswith('text/plain; version=0.0.4')
  grpc_ok = dict(model_name=MODEL, model_version='2', API='Predict', entrypoint='GRPC')
  assert _delta(scenario, REQUESTS, status='OK', **grpc_ok) == len(GRPC_ROWS)
  assert scenario['error code'] == grpc.StatusCode.NOT_FOUND
  assert _delta(scenario, REQUESTS, model_name=MODEL, model_version='9', API='Predict',
                entrypoint='GRPC', status='NOT_FOUND') == 1
  assert _delta(scenario, REQUESTS, model_name=MODEL, model_version='2', API='Predict',
                entrypoint='REST', status='OK') == len(REST_ROWS)
  assert _delta(scenario, LATENCY + '_count', **grpc_ok) == len(GRPC_ROWS)
  assert _delta(scenario, LATENCY + '_sum', **grpc_ok) > 0
  assert _delta(scenario, LATENCY + '_bucket', le='+Inf', **grpc_ok) == len(GRPC_ROWS)


def test_batch_sizes_and_queue_depth(scenario):
  labels = dict(model_name=MODEL, model_version='2',
                signature_name=features.UINT8_SIGNATURE)
  rows = sum(GRPC_ROWS) + sum(REST_ROWS)
  assert _delta(scenario, BATCHING + 'input_batch_size_sum', **labels) == rows
  # 40 rows arrive as two pieces (32 + 8); every other request as one.
  assert _delta(scenario, BATCHING + 'input_batch_size_count', **labels) == \
      len(GRPC_ROWS) + len(REST_ROWS) + 1
  processed = _delta(scenario, BATCHING + 'processed_batch_size_count', **labels)
  assert 1 <= processed <= len(GRPC_ROWS) + len(REST_ROWS) + 1
  assert _delta(scenario, BATCHING + 'processed_batch_size_sum', **labels) >= rows
  assert scrape.value(scenario['after traffic'], BATCHING + 'queued_rows', **labels) == 0
  assert (BATCHING + 'queued_rows', frozenset(labels.items())) in scenario['after traffic']


def test_loads_and_unloads_are_counted(scenario):
  loads = ':tensorflow:cc:saved_model:load_attempt_count_total'
  before, after = scenario['before'], scenario['after reload']
  assert scrape.total(before, loads, model_name=MODEL, status='success') == 2
  assert scrape.total(before, loads, model_name=OTHER, status='success') == 1
  assert scrape.total(before, loads, status='fail') == 0
  unloads = ':tensorflow:serving:model_unload_count_total'
  assert scrape.value(before, unloads, model_name=OTHER) == 0
  assert scenario['reload error'] == 0
  assert scrape.value(after, unloads, model_name=OTHER) == 1
  assert scrape.value(after, unloads, model_name=MODEL) == 0


def test_health_per_model_and_overall(scenario):
  assert scenario['health before'] == {'': SERVING, MODEL: SERVING, OTHER: SERVING,
                                       'nope': grpc.StatusCode.NOT_FOUND}
  assert scenario['health after reload'] == {'': SERVING, MODEL: SERVING, OTHER: NOT_SERVING}


def test_without_a_monitoring_config_there_is_no_metrics_endpoint(server):
  with pytest.raises(urllib.error.HTTPError) as e:
    urllib.request.urlopen(server.rest_url + PATH, timeout=30)
  assert e.value.code == 404


@pytest.mark.parametrize('text,rest_port,message', [
    ('prometheus_config { enable: true }', 0, 'served on the REST port'),
    ('prometheus_config { enabled: true }', 8501, 'not a readable MonitoringConfig'),
    ('prometheus_config { enable: true, path: "metrics" }', 8501, 'must start with "/"'),
])
def test_bad_monitoring_configs_fail_naming_the_file(tmp_path, serving_dir, text, rest_port,
                                                     message):
  path = tmp_path / 'monitoring.config'
  path.write_text(text)
  server = local_server.ModelServer(options.ServerOptions(
      port=0, rest_api_port=rest_port, model_config_file=str(serving_dir / 'models.config'),
      monitoring_config_file=str(path)))
  with pytest.raises(EnvsoundError, match=message) as e:
    server.start()
  assert str(path) in str(e.value) and '\n' not in str(e.value)
  assert server.manager is None  # failed before loading any model

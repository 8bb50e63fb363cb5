"""Hot reload on a running ``envsound serve`` while clients predict.

Versions land in the base path as the Pusher lands them (written elsewhere, renamed into
place); one is corrupt; then HandleReloadConfigRequest adds and removes a model. Clients
predict all along. One scenario runs once for the module; each test checks one part of it.
"""

import json
import shutil
import threading
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (get_model_status_pb2, model_management_pb2,
                                     model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

from envsound.core import atomic, features
from envsound.serving import model_config
from tests.serving.conftest import BATCHING_FILE
from tests.support.deadline import wait_for
from tests.support.server import local_server

pytestmark = pytest.mark.integration

MODEL, ADDED = 'm', 'added'
CLIENTS = 4
STEP_S = 90  # deadline for each change to show (a poll, a load and a warm-up)
AVAILABLE, END = (get_model_status_pb2.ModelVersionStatus.AVAILABLE,
                  get_model_status_pb2.ModelVersionStatus.END)
CLIPS = np.random.default_rng(2).integers(
    0, 256, (2, features.NUM_FRAMES, features.EMBEDDING_DIM), np.uint8)


def _config(root, names):
  """A models.config serving ``names`` (latest two versions each), written under ``root``."""
  text = 'model_config_list {\n' + ''.join(
      f'  config {{ name: "{n}" base_path: "{root / n}" model_platform: "tensorflow" '
      'model_version_policy { latest { num_versions: 2 } } }\n' for n in names) + '}\n'
  path = root / f'{"-".join(names)}.config'
  path.write_text(text)
  return path


def _land(source, base, version):
  """Copies a version in beside the base path's versions, then renames it into place."""
  with atomic.atomic_dir(base / str(version)) as staging:
    shutil.copytree(source, staging, dirs_exist_ok=True)


def _land_corrupt(base, version):
  with atomic.atomic_dir(base / str(version)) as staging:
    (staging / 'saved_model.pb').write_bytes(b'not a SavedModel')


def _predict_request(name):
  request = predict_pb2.PredictRequest()
  request.model_spec.name = name
  request.model_spec.signature_name = features.UINT8_SIGNATURE
  request.inputs[features.EMBEDDING_INPUT].CopyFrom(tf.make_tensor_proto(CLIPS))
  return request


class _Clients:
  """Threads predicting the latest version of MODEL until stopped; record what they got."""

  def __init__(self, stub):
    self.versions = [[] for _ in range(CLIENTS)]
    self.failures = []
    self._stop = threading.Event()
    self._threads = [threading.Thread(target=self._run, args=(stub, i)) for i in range(CLIENTS)]

  def _run(self, stub, i):
    request = _predict_request(MODEL)
    while not self._stop.is_set():
      try:
        self.versions[i].append(stub.Predict(request, timeout=30).model_spec.version.value)
      except grpc.RpcError as e:
        self.failures.append(f'{e.code().name}: {e.details()}')

  def seen(self, version):
    return all(version in v for v in self.versions)

  def __enter__(self):
    for thread in self._threads:
      thread.start()
    return self

  def __exit__(self, *exc):
    self._stop.set()
    for thread in self._threads:
      thread.join(60)


@pytest.fixture(scope='module')
def scenario(serving_dir, tmp_path_factory):
  root = tmp_path_factory.mktemp('reload')
  sources = {1: serving_dir / 'cnn1d_balanced' / '1', 2: serving_dir / 'cnn1d_balanced' / '2',
             3: serving_dir / 'cnn2d_balanced' / '1'}
  _land(sources[1], root / MODEL, 1)
  flags = ['--enable_batching', f'--batching_parameters_file={BATCHING_FILE}']
  seen = {}
  with local_server(model_config_file=_config(root, [MODEL]), flags=flags, probe_model=MODEL,
                    log_dir=root) as server, \
      grpc.insecure_channel(server.grpc_target) as channel:
    prediction = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    models = model_service_pb2_grpc.ModelServiceStub(channel)

    def states(name=MODEL):
      request = get_model_status_pb2.GetModelStatusRequest()
      request.model_spec.name = name
      return {s.version: (s.state, s.status.error_message)
              for s in models.GetModelStatus(request, timeout=30).model_version_status}

    with _Clients(prediction) as clients:
      wait_for(lambda: clients.seen(1), STEP_S, 'every client served by version 1')
      for version in (2, 3):
        _land(sources[version], root / MODEL, version)
        wait_for(lambda v=version: clients.seen(v), STEP_S, f'clients served by {version}')
        seen[f'states after {version}'] = wait_for(
            lambda v=version: (lambda s: s if set(s) == {v - 1, v} else None)(states()),
            STEP_S, f'versions {version - 1} and {version} only')
      _land_corrupt(root / MODEL, 4)
      seen['corrupt'] = wait_for(lambda: states().get(4), STEP_S, 'version 4 reported')
      seen['states after 4'] = states()
      with urllib.request.urlopen(f'{server.rest_url}/v1/models/{MODEL}', timeout=30) as r:
        seen['rest'] = json.loads(r.read())
      seen['latest after 4'] = prediction.Predict(_predict_request(MODEL),
                                                  timeout=30).model_spec.version.value
      _land(sources[1], root / ADDED, 1)
      for name, names in (('add', [MODEL, ADDED]), ('remove', [MODEL])):
        reload = model_management_pb2.ReloadConfigRequest(
            config=model_config.read_model_server_config(_config(root, names)))
        seen[f'{name} status'] = models.HandleReloadConfigRequest(reload, timeout=120).status
        try:
          seen[f'{ADDED} after {name}'] = prediction.Predict(
              _predict_request(ADDED), timeout=30).model_spec.version.value
        except grpc.RpcError as e:
          seen[f'{ADDED} after {name}'] = e.code()
      seen['requests before the end'] = sum(map(len, clients.versions))
      wait_for(lambda: sum(map(len, clients.versions)) > seen['requests before the end'] + 8,
               STEP_S, 'clients still served after the reloads')
    seen['clients'] = clients
    seen['log'] = server.log()
  return seen


def test_no_request_failed_while_versions_landed_and_configs_reloaded(scenario):
  clients = scenario['clients']
  assert clients.failures == []
  assert sum(map(len, clients.versions)) > 50
  for versions in clients.versions:  # the latest version only ever moves forward
    assert versions == sorted(versions) and {1, 2, 3} <= set(versions)


def test_the_latest_version_moves_and_old_ones_unload_by_the_policy(scenario):
  assert scenario['states after 2'] == {1: (AVAILABLE, ''), 2: (AVAILABLE, '')}
  assert scenario['states after 3'] == {2: (AVAILABLE, ''), 3: (AVAILABLE, '')}
  assert f'model {MODEL} version 1 unloaded' in scenario['log']


def test_a_corrupt_version_reports_its_error_and_the_previous_keeps_serving(scenario):
  state, message = scenario['corrupt']
  assert state == END and 'SavedModel' in message, message
  assert {v: s for v, (s, _) in scenario['states after 4'].items()} == {
      4: END, 3: AVAILABLE, 2: AVAILABLE}
  rest = {s['version']: s for s in scenario['rest']['model_version_status']}
  assert rest['4']['state'] == 'END' and rest['4']['status']['error_code'] == 'UNKNOWN'
  assert rest['4']['status']['error_message'] == message
  assert rest['3']['state'] == 'AVAILABLE'
  assert scenario['latest after 4'] == 3


def test_reload_config_over_grpc_adds_and_removes_a_model(scenario):
  assert scenario['add status'].error_code == 0, scenario['add status'].error_message
  assert scenario[f'{ADDED} after add'] == 1
  assert scenario['remove status'].error_code == 0, scenario['remove status'].error_message
  assert scenario[f'{ADDED} after remove'] == grpc.StatusCode.NOT_FOUND
  assert f'model {ADDED} version 1 unloaded' in scenario['log']

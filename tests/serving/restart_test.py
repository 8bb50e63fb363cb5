"""envsound serve restarts cleanly: stopped as a user stops it (Ctrl-C, then SIGTERM), a new
server on the same serving dir and ports serves the same versions, labels and predictions,
and a version folder still being written at the restart is ignored.

One scenario (two server starts) runs once for the module; each test checks one part of it.
"""

import json
import shutil
import signal
import subprocess
import time
import urllib.request

import numpy as np
import pytest

from envsound.core import features
from envsound.serving import model_config
from envsound.serving.client import Client
from envsound.serving.client_errors import ModelNotFoundError
from tests.serving.conftest import CLASSES
from tests.support.ports import HOST, free_port
from tests.support.server import local_server

pytestmark = pytest.mark.integration

MODEL = 'cnn1d_balanced'
CLIPS = np.random.default_rng(7).integers(
    0, 256, (4, features.NUM_FRAMES, features.EMBEDDING_DIM), np.uint8)
PROMPT_S = 10.0  # deadline for a clean stop (finishing requests, unloading models)


def _serve(config, ports, log_dir):
  """``envsound serve`` on the given ports (a restart reuses them, as a user's would)."""
  return local_server(model_config_file=config, probe_model=MODEL, ports=ports, log_dir=log_dir)


def _stop(server, sig):
  """Sends ``sig``; the exit status if the server exits within PROMPT_S, else None."""
  server.process.send_signal(sig)
  try:
    code = server.process.wait(PROMPT_S)
  except subprocess.TimeoutExpired:
    code = None
  return {'code': code, 'log': server.log()}


def _observe(client, rest_url):
  """What a client sees: versions and states, labels, predictions, REST status."""
  (info,) = client.list_models([MODEL])
  with urllib.request.urlopen(f'{rest_url}/v1/models/{MODEL}', timeout=30) as response:
    rest_status = json.loads(response.read())
  latest, stable = client.predict(MODEL, CLIPS), client.predict(MODEL, CLIPS, label='stable')
  return {'versions': [(v.version, v.state, v.labels) for v in info.versions],
          'rest': rest_status,
          'latest': (latest.model_version, latest.class_names, latest.top_class),
          'latest probabilities': latest.probabilities,
          'stable': (stable.model_version, stable.top_class),
          'stable probabilities': stable.probabilities}


@pytest.fixture(scope='module')
def scenario(serving_dir, tmp_path_factory):
  root = tmp_path_factory.mktemp('restart')
  shutil.copytree(serving_dir / MODEL, root / MODEL)
  config = model_config.write_model_config(root, root / 'models.config')
  ports = free_port(), free_port()
  rest_url = f'http://{HOST}:{ports[1]}'
  seen = {}
  # One client for both servers: it reconnects (retrying) once the new one is up.
  with Client(f'{HOST}:{ports[0]}', timeout_s=30, max_retries=8, backoff_s=0.2) as client:
    with _serve(config, ports, root) as first:
      seen['before'] = _observe(client, rest_url)
      seen['sigint'] = _stop(first, signal.SIGINT)
    # A Pusher is writing version 3: variables first, saved_model.pb last (not yet).
    shutil.copytree(root / MODEL / '2', root / MODEL / '3',
                    ignore=shutil.ignore_patterns('saved_model.pb'))
    with _serve(config, ports, root) as second:
      seen['after'] = _observe(client, rest_url)
      time.sleep(1.5)  # at least one poll of the base path with version 3 half written
      seen['status after a poll'] = [(v.version, v.state) for v in client.model_status(MODEL)]
      with pytest.raises(ModelNotFoundError) as e:
        client.predict(MODEL, CLIPS, version=3)
      seen['version 3'] = str(e.value)
      seen['sigterm'] = _stop(second, signal.SIGTERM)
  return seen


@pytest.mark.parametrize('stop', ['sigint', 'sigterm'])
def test_a_signal_stops_the_server_promptly_with_exit_status_0(scenario, stop):
  result = scenario[stop]
  assert result['code'] == 0, result['log'][-3000:]  # None: still running after PROMPT_S
  assert 'Traceback' not in result['log']
  for version in (1, 2):  # the models were unloaded, not abandoned
    assert f'model {MODEL} version {version} unloaded' in result['log']


def test_the_restarted_server_serves_the_same_versions_labels_and_predictions(scenario):
  before, after = scenario['before'], scenario['after']
  assert before['versions'] == [(2, 'AVAILABLE', ('canary',)), (1, 'AVAILABLE', ('stable',))]
  assert before['latest'][:2] == (2, CLASSES) and before['stable'][0] == 1
  assert after['versions'] == before['versions']
  assert after['rest'] == before['rest']
  assert after['latest'] == before['latest'] and after['stable'] == before['stable']
  np.testing.assert_allclose(after['latest probabilities'], before['latest probabilities'],
                             rtol=1e-6)
  np.testing.assert_allclose(after['stable probabilities'], before['stable probabilities'],
                             rtol=1e-6)
  assert not np.allclose(before['latest probabilities'], before['stable probabilities'])


def test_a_version_being_written_at_the_restart_is_ignored(scenario):
  assert [v for v, *_ in scenario['after']['versions']] == [2, 1]
  assert scenario['status after a poll'] == [(2, 'AVAILABLE'), (1, 'AVAILABLE')]
  assert f'Specific({MODEL}, 3)' in scenario['version 3']
  assert 'version 3' not in scenario['sigterm']['log']  # no failed load reported either

"""envsound serve restarts cleanly: stopped as a user stops it (Ctrl-C, then SIGTERM), a new
server on the same serving dir and ports serves the same versions, labels and predictions,
and a version folder still being written at the restart is ignored.

One scenario (two server starts) runs once for the module; each test checks one part of it.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest

from envsound.core import features
from envsound.serving import model_config
from envsound.serving.client import Client
from envsound.serving.client_errors import ModelNotFoundError
from tests.serving.conftest import CLASSES
from tests.support.server import (HOST, pick_unused_port, stop_server, wait_until_rest,
                                  wait_until_serving)

pytestmark = pytest.mark.integration

MODEL = 'cnn1d_balanced'
CLIPS = np.random.default_rng(7).integers(
    0, 256, (4, features.NUM_FRAMES, features.EMBEDDING_DIM), np.uint8)
PROMPT_S = 10.0  # measured well under 1 s; generous for loaded CI machines


@contextlib.contextmanager
def _serve(config, grpc_port, rest_port, log_path):
  """``envsound serve`` on the given ports (a restart reuses them, as a user's would)."""
  argv = [sys.executable, '-m', 'envsound', 'serve', f'--port={grpc_port}',
          f'--rest_api_port={rest_port}', f'--model_config_file={config}',
          '--file_system_poll_wait_seconds=1']
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', PYTHONUNBUFFERED='1')
  with open(log_path, 'wb') as log:
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
  try:
    wait_until_serving(f'{HOST}:{grpc_port}', MODEL, process, 120)
    wait_until_rest(f'http://{HOST}:{rest_port}/v1/models/{MODEL}', process, 120)
    yield process
  except (RuntimeError, TimeoutError) as e:
    raise RuntimeError(f'{e}; log:\n{log_path.read_text(errors="replace")[-3000:]}') from None
  finally:
    stop_server(process)


def _stop(process, sig, log_path):
  start = time.monotonic()
  process.send_signal(sig)
  try:
    code = process.wait(60)
  except subprocess.TimeoutExpired:
    code = None
  return {'code': code, 'seconds': time.monotonic() - start,
          'log': log_path.read_text(errors='replace')}


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
  grpc_port, rest_port = pick_unused_port(), pick_unused_port()
  rest_url = f'http://{HOST}:{rest_port}'
  seen = {}
  # One client for both servers: it reconnects (retrying) once the new one is up.
  with Client(f'{HOST}:{grpc_port}', timeout_s=30, max_retries=8, backoff_s=0.2) as client:
    with _serve(config, grpc_port, rest_port, root / 'first.log') as first:
      seen['before'] = _observe(client, rest_url)
      seen['sigint'] = _stop(first, signal.SIGINT, root / 'first.log')
    # A Pusher is writing version 3: variables first, saved_model.pb last (not yet).
    shutil.copytree(root / MODEL / '2', root / MODEL / '3',
                    ignore=shutil.ignore_patterns('saved_model.pb'))
    with _serve(config, grpc_port, rest_port, root / 'second.log') as second:
      seen['after'] = _observe(client, rest_url)
      time.sleep(1.5)  # at least one poll of the base path with version 3 half written
      seen['status after a poll'] = [(v.version, v.state) for v in client.model_status(MODEL)]
      with pytest.raises(ModelNotFoundError) as e:
        client.predict(MODEL, CLIPS, version=3)
      seen['version 3'] = str(e.value)
      seen['sigterm'] = _stop(second, signal.SIGTERM, root / 'second.log')
  return seen


@pytest.mark.parametrize('stop', ['sigint', 'sigterm'])
def test_a_signal_stops_the_server_promptly_with_exit_status_0(scenario, stop):
  result = scenario[stop]
  assert result['code'] == 0, result['log'][-3000:]
  assert result['seconds'] < PROMPT_S
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

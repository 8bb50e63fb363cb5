"""Serving fixtures: tiny models in a Pusher-style serving dir and one shared server."""

from pathlib import Path

import grpc
import pytest
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

from envsound.serving import options
from tests.support.server import local_server
from tests.support.tiny_model import export_serving_dir

CLASSES = ('rail', 'birds', 'music')
BATCHING_FILE = options.BATCHING_PARAMETERS_FILE
MAX_MESSAGE_BYTES = 1 << 20


@pytest.fixture(scope='session')
def serving_dir(tmp_path_factory) -> Path:
  """cnn1d_balanced versions 1 and 2 (stable=1, canary=2) and cnn2d_balanced version 1."""
  root = tmp_path_factory.mktemp('serving')
  export_serving_dir(root, {'cnn1d_balanced': [1, 2], 'cnn2d_balanced': [1]}, CLASSES)
  return root


@pytest.fixture(scope='session')
def server(serving_dir, tmp_path_factory):
  """One batching server over serving_dir with a 1 MiB message limit, shared by modules
  that only read from it."""
  flags = ['--enable_batching', f'--batching_parameters_file={BATCHING_FILE}',
           f'--grpc_channel_arguments=grpc.max_receive_message_length={MAX_MESSAGE_BYTES}']
  with local_server(model_config_file=serving_dir / 'models.config', flags=flags,
                    probe_model='cnn1d_balanced',
                    log_dir=tmp_path_factory.mktemp('logs')) as running:
    yield running


@pytest.fixture(scope='session')
def channel(server):
  with grpc.insecure_channel(server.grpc_target) as ch:
    yield ch


@pytest.fixture(scope='session')
def prediction_stub(channel):
  return prediction_service_pb2_grpc.PredictionServiceStub(channel)


@pytest.fixture(scope='session')
def model_stub(channel):
  return model_service_pb2_grpc.ModelServiceStub(channel)

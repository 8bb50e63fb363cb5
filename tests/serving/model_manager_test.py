"""Version lifecycle: incomplete and corrupt versions, policies, labels, config reloads."""

import shutil

import grpc
import numpy as np
import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from envsound.core import features
from envsound.core.errors import EnvsoundError
from envsound.serving import model_config, server_errors
from envsound.serving.model_manager import ModelManager, State
from tests.support.tiny_model import export_tiny_model

CLASSES = ('a', 'b')


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
  """Two exported versions to copy from (exporting is the slow part)."""
  root = tmp_path_factory.mktemp('exports')
  return {v: export_tiny_model(root, v, CLASSES, seed=v) for v in (1, 2)}


def _config(text):
  return text_format.Parse(text, model_server_config_pb2.ModelServerConfig())


def _one_model(base, extra=''):
  return _config(f'model_config_list {{ config {{ name: "m" base_path: "{base}" {extra} }} }}')


def _predict(servable):
  x = np.zeros((1, features.NUM_FRAMES, features.EMBEDDING_DIM), np.uint8)
  return servable.predict(features.UINT8_SIGNATURE, {features.EMBEDDING_INPUT: x})


def _states(manager, name='m'):
  return {v.number: State.Name(v.state) for v in manager.version_states(name)}


def test_incomplete_version_waits_for_saved_model_pb_then_replaces_the_old(tmp_path, exported):
  shutil.copytree(exported[1], tmp_path / 'm' / '1')
  manager = ModelManager(_one_model(tmp_path / 'm'))
  partial = tmp_path / 'm' / '2'
  shutil.copytree(exported[2], partial, ignore=shutil.ignore_patterns('saved_model.pb'))
  manager.poll()
  assert _states(manager) == {1: 'AVAILABLE'}
  held = manager.servable('m')  # an in-flight request keeps its version
  shutil.copy(exported[2] / 'saved_model.pb', partial / 'saved_model.pb')
  manager.poll()
  assert _states(manager) == {2: 'AVAILABLE'}
  assert manager.servable('m').version == 2
  assert _predict(held)[features.PROBABILITIES].shape == (1, len(CLASSES))
  manager.stop()


def test_corrupt_version_is_reported_and_others_keep_serving(tmp_path, exported):
  shutil.copytree(exported[1], tmp_path / 'm' / '1')
  shutil.copytree(exported[2], tmp_path / 'other' / '2')
  (tmp_path / 'm' / '5').mkdir()
  (tmp_path / 'm' / '5' / 'saved_model.pb').write_bytes(b'not a SavedModel')
  config = _config(f'''model_config_list {{
      config {{ name: "m" base_path: "{tmp_path / 'm'}" }}
      config {{ name: "other" base_path: "{tmp_path / 'other'}" }} }}''')
  manager = ModelManager(config)
  versions = {v.number: v for v in manager.version_states('m')}
  assert versions[5].state == State.END and versions[5].error
  assert versions[1].state == State.AVAILABLE
  assert manager.servable('m').version == 1
  assert manager.servable('other').version == 2
  with pytest.raises(server_errors.ServingError) as e:
    manager.servable('m', version=5)
  assert e.value.code == grpc.StatusCode.FAILED_PRECONDITION
  manager.poll()  # not retried while the file is unchanged
  assert manager.version_states('m', version=5)[0].state == State.END
  manager.stop()


def test_lookup_errors_use_tf_serving_codes(tmp_path, exported):
  shutil.copytree(exported[1], tmp_path / 'm' / '1')
  manager = ModelManager(_one_model(tmp_path / 'm', 'version_labels { key: "stable" value: 1 }'))
  assert manager.servable('m', label='stable').version == 1
  cases = [(dict(name='nope'), grpc.StatusCode.NOT_FOUND, 'Latest(nope)'),
           (dict(name='m', version=3), grpc.StatusCode.NOT_FOUND, 'Specific(m, 3)'),
           (dict(name='m', label='canary'), grpc.StatusCode.INVALID_ARGUMENT,
            'Unrecognized servable version label: canary')]
  for kwargs, code, message in cases:
    with pytest.raises(server_errors.ServingError) as e:
      manager.servable(**kwargs)
    assert e.value.code == code and message in e.value.message
  with pytest.raises(server_errors.ServingError) as e:
    manager.version_states('nope')
  assert e.value.code == grpc.StatusCode.NOT_FOUND
  manager.stop()


def test_labels_on_unloaded_versions_need_the_flag(tmp_path, exported):
  shutil.copytree(exported[1], tmp_path / 'm' / '1')
  config = _one_model(tmp_path / 'm', 'version_labels { key: "canary" value: 2 }')
  with pytest.raises(EnvsoundError, match='allow_version_labels_for_unavailable_models'):
    ModelManager(config)
  manager = ModelManager(config, allow_unavailable_labels=True)
  with pytest.raises(server_errors.ServingError) as e:
    manager.servable('m', label='canary')
  assert e.value.code == grpc.StatusCode.NOT_FOUND
  manager.stop()


def test_policies_and_config_reload(tmp_path, exported):
  for v in (1, 2):
    shutil.copytree(exported[v], tmp_path / 'm' / str(v))
  manager = ModelManager(_one_model(tmp_path / 'm', 'model_version_policy { all {} }'))
  assert _states(manager) == {1: 'AVAILABLE', 2: 'AVAILABLE'}
  manager.reload_config(_one_model(tmp_path / 'm',
                                   'model_version_policy { specific { versions: 1 } }'))
  assert _states(manager) == {1: 'AVAILABLE'}
  manager.reload_config(model_config.single_model_config('renamed', tmp_path / 'm'))
  assert manager.model_names() == ['renamed']
  assert manager.servable('renamed').version == 2
  with pytest.raises(server_errors.ServingError):
    manager.servable('m')
  manager.stop()

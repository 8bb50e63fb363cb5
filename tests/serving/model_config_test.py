"""Config files: the checked-in ones parse; written configs name real versions."""

from pathlib import Path

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import file_system_storage_path_source_pb2 as fs_pb2

from envsound.core.errors import EnvsoundError
from envsound.serving import model_config

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'envsound' / 'serving' / 'config'


def test_checked_in_configs_parse():
  config = model_config.read_model_server_config(CONFIG_DIR / 'models.config')
  names = [m.name for m in config.model_config_list.config]
  from envsound.core import approaches  # pylint: disable=import-outside-toplevel
  assert names == [a.model_name for a in approaches.APPROACHES]
  options = model_config.read_batching_parameters(CONFIG_DIR / 'batching_parameters.pbtxt')
  assert options.enable_large_batch_splitting and options.execution_batch_size == 32
  from envsound.serving import client  # pylint: disable=import-outside-toplevel
  assert options.max_batch_size >= client.DEFAULT_MAX_BATCH_CLIPS  # the client's chunks fit


def _policy(text):
  return text_format.Parse(text, fs_pb2.FileSystemStoragePathSourceConfig.ServableVersionPolicy())


@pytest.mark.parametrize('policy,expected', [
    ('', {5}),
    ('latest { num_versions: 2 }', {3, 5}),
    ('all {}', {1, 3, 5}),
    ('specific { versions: 1 versions: 4 }', {1}),
])
def test_version_policies(policy, expected):
  assert model_config.aspired_versions(_policy(policy), [1, 3, 5]) == expected


def test_write_model_config_labels_real_versions(tmp_path):
  for model, versions in {'a': [3, 7, 12], 'b': [1]}.items():
    for v in versions:
      (tmp_path / model / str(v)).mkdir(parents=True)
      (tmp_path / model / str(v) / 'saved_model.pb').write_bytes(b'')
  (tmp_path / 'a' / '13').mkdir()  # still being written: no saved_model.pb
  (tmp_path / 'empty').mkdir()
  out = model_config.write_model_config(tmp_path, tmp_path / 'models.config')
  config = model_config.read_model_server_config(out)
  models = {m.name: m for m in config.model_config_list.config}
  assert sorted(models) == ['a', 'b']
  assert dict(models['a'].version_labels) == {'stable': 7, 'canary': 12}
  assert dict(models['b'].version_labels) == {'stable': 1, 'canary': 1}
  assert models['a'].base_path == str(tmp_path.resolve() / 'a')
  docker = model_config.write_model_config(tmp_path, tmp_path / 'd.config',
                                           base_path_prefix='/models')
  assert 'base_path: "/models/a"' in docker.read_text()


def test_models_config_command_writes_labels_for_the_container(tmp_path, capsys):
  from envsound import cli  # pylint: disable=import-outside-toplevel
  for v in (5, 9):
    (tmp_path / 'serving' / 'm' / str(v)).mkdir(parents=True)
    (tmp_path / 'serving' / 'm' / str(v) / 'saved_model.pb').write_bytes(b'')
  out = tmp_path / 'docker.config'
  assert cli.main(['models-config', str(tmp_path / 'serving'), '--base-path-prefix',
                   '/models', '--out', str(out)]) == 0
  (model,) = model_config.read_model_server_config(out).model_config_list.config
  assert model.base_path == '/models/m' and dict(model.version_labels) == {
      'stable': 5, 'canary': 9}
  assert f'written to {out}' in capsys.readouterr().out
  assert cli.main(['models-config', str(tmp_path / 'serving' / 'm')]) == 1  # no models
  assert cli.main(['models-config', str(tmp_path / 'missing')]) == 1
  assert 'missing: no such serving dir' in capsys.readouterr().err


def test_bad_configs_are_refused(tmp_path):
  relative = tmp_path / 'rel.config'
  relative.write_text('model_config_list { config { name: "a" base_path: "models/a" } }')
  with pytest.raises(EnvsoundError, match='must be absolute'):
    model_config.read_model_server_config(relative)
  garbage = tmp_path / 'bad.config'
  garbage.write_text('model_config_list { nonsense: 1 }')
  with pytest.raises(EnvsoundError, match='bad.config'):
    model_config.read_model_server_config(garbage)
  with pytest.raises(EnvsoundError, match='no <model>'):
    model_config.write_model_config(tmp_path, tmp_path / 'x.config')


def test_batching_parameters(tmp_path):
  path = tmp_path / 'b.pbtxt'
  path.write_text('max_batch_size { value: 8 } allowed_batch_sizes: 4 allowed_batch_sizes: 8')
  options = model_config.read_batching_parameters(path)
  assert options.max_batch_size == 8 and options.allowed_batch_sizes == (4, 8)
  assert options.max_enqueued_batches == model_config.BatchingOptions().max_enqueued_batches
  path.write_text('max_batch_size { value: 8 } allowed_batch_sizes: 4')
  with pytest.raises(EnvsoundError, match='allowed_batch_sizes'):
    model_config.read_batching_parameters(path)
  path.write_text('max_batch_size { value: 64 } enable_large_batch_splitting { value: true } '
                  'max_execution_batch_size { value: 8 } allowed_batch_sizes: 4 '
                  'allowed_batch_sizes: 8')
  options = model_config.read_batching_parameters(path)
  assert options.max_batch_size == 64 and options.execution_batch_size == 8
  path.write_text('max_batch_size { value: 8 } enable_large_batch_splitting { value: true } '
                  'max_execution_batch_size { value: 16 }')
  with pytest.raises(EnvsoundError, match='max_execution_batch_size'):
    model_config.read_batching_parameters(path)
  path.write_text('max_batch_size: 8')  # TF Serving wraps it: { value: 8 }
  with pytest.raises(EnvsoundError, match='BatchingParameters'):
    model_config.read_batching_parameters(path)

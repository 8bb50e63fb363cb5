"""TFX's Tuner in the pipeline: a tiny search, cached on the second run, reused without --tune."""

import json
import os

import pytest
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from envsound.audioset import sample
from envsound.pipeline import configs, local_runner, pipeline as pipeline_lib

pytestmark = pytest.mark.e2e
APPROACH = 'cnn1d'


def _store(metadata: str) -> metadata_store.MetadataStore:
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = metadata
  return metadata_store.MetadataStore(config)


def _states(store, component: str):
  ctx = store.get_context_by_type_and_name('node', f'{configs.PIPELINE_NAME}.{component}')
  return [] if ctx is None else sorted(e.last_known_state
                                       for e in store.get_executions_by_context(ctx.id))


def _trained_hparams(store):
  """hparams of the newest Trainer model run (history.json)."""
  run = max(store.get_artifacts_by_type('ModelRun'), key=lambda a: a.id)
  with open(os.path.join(run.uri, 'history.json')) as f:
    return json.load(f)['hparams']


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
  tmp = tmp_path_factory.mktemp('tuning')
  sample.generate_release(tmp / 'audioset', 300, seed=2, progress=False)
  cfg = configs.PipelineConfig(
      data_root=str(tmp / 'audioset'), pipeline_root=str(tmp / 'root'),
      serving_dir=str(tmp / 'serving'), approaches=(APPROACH,), epochs=1,
      hyperparameters={'batch_size': 32}, min_accuracy=0.0,
      tune=configs.TuningBudget(trials=2, minutes=10))
  metadata = local_runner.run(cfg, running_mode='in_memory')
  store = _store(metadata)
  tuned = {'tuner': _states(store, f'Tuner_{APPROACH}'), 'hparams': _trained_hparams(store)}
  local_runner.run(cfg, running_mode='in_memory')
  retuned = {'tuner': _states(store, f'Tuner_{APPROACH}'),
             'trainer': _states(store, f'Trainer_{APPROACH}')}
  untuned_cfg = configs.PipelineConfig(**{**cfg.__dict__, 'tune': None})
  local_runner.run(untuned_cfg, running_mode='in_memory')
  return cfg, store, tuned, retuned, {'trainer': _states(store, f'Trainer_{APPROACH}')}


def test_the_tuner_searches_the_train_split_only():
  cfg = configs.PipelineConfig(data_root='/data', pipeline_root='/root', serving_dir='/s',
                               approaches=(APPROACH,), tune=configs.TuningBudget(3, 1.5))
  components = {c.id: c for c in pipeline_lib.create_pipeline(cfg).components}
  tuner = components[f'Tuner_{APPROACH}']
  for key in ('train_args', 'eval_args'):
    assert json.loads(tuner.exec_properties[key])['splits'] == ['train'], key
  assert json.loads(tuner.exec_properties['custom_config'])['tuning'] == {
      'trials': 3, 'minutes': 1.5}
  assert f'TunedResolver_{APPROACH}' not in components
  untuned = pipeline_lib.create_pipeline(configs.PipelineConfig(
      data_root='/data', pipeline_root='/root', serving_dir='/s', approaches=(APPROACH,)))
  assert {f'TunedResolver_{APPROACH}'} == {c.id for c in untuned.components
                                          if c.id.startswith('Tune')}


def test_best_hyperparameters_feed_the_trainer(runs):
  _, store, tuned, _, _ = runs
  complete = metadata_store_pb2.Execution.COMPLETE
  assert tuned['tuner'] == [complete]
  best, = store.get_artifacts_by_type('HyperParameters')
  with open(os.path.join(best.uri, 'best_hyperparameters.txt')) as f:
    values = json.load(f)['values']
  assert values and all(tuned['hparams'][k] == v for k, v in values.items())


def test_a_second_tune_run_is_cached_and_later_runs_reuse_the_result(runs):
  _, store, _, retuned, untuned = runs
  complete, cached = metadata_store_pb2.Execution.COMPLETE, metadata_store_pb2.Execution.CACHED
  assert retuned['tuner'] == [complete, cached]
  assert retuned['trainer'] == [complete, cached]
  # Without --tune the resolver hands the Trainer the same HyperParameters: a cache hit.
  assert untuned['trainer'] == [complete, cached, cached]
  assert len(store.get_artifacts_by_type('HyperParameters')) == 1

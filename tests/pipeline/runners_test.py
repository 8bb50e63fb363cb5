"""Runners without running: Dataflow arguments, Vertex AI compilation, CLI flags."""

import argparse
import json

import pytest

from envsound.core import approaches
from envsound.core.errors import EnvsoundError
from envsound.pipeline import beam_args, cli, configs, vertex_runner


def _parse(argv):
  parser = argparse.ArgumentParser()
  cli.register(parser.add_subparsers(dest='command'))
  return parser.parse_args(argv)


def test_direct_args_choose_mode_and_workers():
  assert beam_args.direct_args('multi_processing', 0) == [
      '--runner=DirectRunner', '--direct_running_mode=multi_processing',
      '--direct_num_workers=0']
  assert beam_args.direct_args('in_memory', 0)[-1] == '--direct_num_workers=1'
  with pytest.raises(ValueError, match='running mode'):
    beam_args.direct_args('threads')


def test_auto_mode_multi_processing_only_for_large_releases_on_four_cores_or_more():
  big = beam_args.AUTO_MULTI_PROCESSING_BYTES + 1
  assert beam_args.auto_running_mode(big, 4) == 'multi_processing'
  assert beam_args.auto_running_mode(big, 2) == 'in_memory'  # measured faster on 2 cores
  assert beam_args.auto_running_mode(big - 2, 16) == 'in_memory'


def test_dataflow_args_from_flags_without_cloud_calls():
  args = _parse(['pipeline', 'run', '--data', 'gs://b/audioset', '--runner', 'dataflow',
                 '--project', 'p', '--region', 'europe-west1', '--gcs-root', 'gs://b/env/',
                 '--image', 'europe-docker.pkg.dev/p/r/envsound:1'])
  assert cli.dataflow_beam_args(args) == [
      '--runner=DataflowRunner', '--project=p', '--region=europe-west1',
      '--temp_location=gs://b/env/tmp', '--staging_location=gs://b/env/tmp/staging',
      '--experiments=use_runner_v2',
      '--sdk_container_image=europe-docker.pkg.dev/p/r/envsound:1', '--sdk_location=container',
      '--machine_type=n2-standard-4', '--max_num_workers=16',
      '--autoscaling_algorithm=THROUGHPUT_BASED', '--disk_size_gb=50']  # docs/dataflow.md's
  cfg = cli.make_config(args, cloud=True)
  assert (cfg.data_root, cfg.pipeline_root, cfg.serving_dir) == (
      'gs://b/audioset', 'gs://b/env/pipeline', 'gs://b/env/serving')


def test_dataflow_worker_settings_can_be_changed():
  args = _parse(['pipeline', 'run', '--data', 'gs://b/audioset', '--runner', 'dataflow',
                 '--project', 'p', '--region', 'r', '--gcs-root', 'gs://b/env', '--image', 'i',
                 '--machine-type', 'n2-highmem-8', '--max-workers', '64', '--disk-size-gb', '100'])
  assert cli.dataflow_beam_args(args)[-4:] == [
      '--machine_type=n2-highmem-8', '--max_num_workers=64',
      '--autoscaling_algorithm=THROUGHPUT_BASED', '--disk_size_gb=100']


def test_dataflow_needs_project_region_bucket_and_worker_code():
  args = _parse(['pipeline', 'run', '--data', 'x', '--runner', 'dataflow', '--project', 'p'])
  with pytest.raises(EnvsoundError, match='--region, --gcs-root'):
    cli.dataflow_beam_args(args)
  with pytest.raises(ValueError, match='container image'):
    beam_args.dataflow_args('p', 'r', 'gs://b/tmp')
  with pytest.raises(ValueError, match='gs://'):
    beam_args.dataflow_args('p', 'r', '/tmp', image='i')


def test_quick_run_flags_reach_the_config(tmp_path, make_release):
  data = str(make_release(clips={'bal_train': [0], 'eval': [0]}))
  args = _parse(['pipeline', 'run', '--data', data, '--max-clips', '500',
                 '--epochs', '2', '--approaches', 'cnn1d,cnn1d_150k',
                 '--pipeline-root', str(tmp_path / 'root')])
  cfg = cli.make_config(args, cloud=False)
  assert cfg.epochs == 2 and cfg.approaches == ('cnn1d', 'cnn1d_150k')
  assert cfg.training_sets == approaches.TRAINING_SETS
  assert cfg.ingestion(approaches.BALANCED).max_train_clips == 500
  assert cfg.ingestion(approaches.WITH_UNBALANCED).max_train_clips == 500
  assert cfg.pipeline_root == str(tmp_path / 'root')
  only_2d = cli.make_config(_parse(['pipeline', 'run', '--data', data, '--approaches', 'cnn2d']),
                            cloud=False)
  assert only_2d.training_sets == (approaches.BALANCED,)  # no unused 150k set
  assert only_2d.ingestion(approaches.BALANCED).max_train_clips is None
  with pytest.raises(EnvsoundError, match='unknown approach'):
    cli.make_config(_parse(['pipeline', 'run', '--data', data, '--approaches', 'rnn']),
                    cloud=False)


def test_local_data_is_checked_and_googles_layout_accepted(tmp_path, make_release):
  # Google's features.tar.gz unpacks to audioset_v1_embeddings/; the CSV may sit above it.
  inner = make_release('audioset_v1_embeddings', clips={'bal_train': [0], 'eval': [1]})
  (inner / 'class_labels_indices.csv').rename(tmp_path / 'class_labels_indices.csv')
  cfg = cli.make_config(_parse(['pipeline', 'run', '--data', str(tmp_path)]), cloud=False)
  assert cfg.data_root == str(inner)
  assert cfg.ingestion(approaches.BALANCED).class_csv == str(tmp_path / 'class_labels_indices.csv')
  no_eval = make_release('no_eval', clips={'bal_train': [0]})
  with pytest.raises(EnvsoundError, match='needs the eval split'):
    cli.make_config(_parse(['pipeline', 'run', '--data', str(no_eval)]), cloud=False)
  with pytest.raises(EnvsoundError, match='no such folder'):
    cli.make_config(_parse(['pipeline', 'run', '--data', str(tmp_path / 'missing')]),
                    cloud=False)


def test_unbalanced_set_is_capped_by_default():
  cfg = configs.PipelineConfig(data_root='d', pipeline_root='r', serving_dir='s')
  assert cfg.ingestion(approaches.WITH_UNBALANCED).max_train_clips == 150_000


def test_vertex_compile_writes_every_component(tmp_path):
  cfg = configs.PipelineConfig(data_root='gs://b/audioset', pipeline_root='gs://b/root',
                               serving_dir='gs://b/serving',
                               schema_file=vertex_runner.IMAGE_SCHEMA_FILE)
  out = tmp_path / 'envsound.json'
  vertex_runner.compile_vertex(cfg, str(out), image='gcr.io/p/envsound:1',
                               beam_pipeline_args=beam_args.dataflow_args(
                                   'p', 'r', 'gs://b/tmp', image='gcr.io/p/envsound:1'))
  spec = json.loads(out.read_text())['pipelineSpec']
  tasks = set(spec['root']['dag']['tasks'])
  expected = {'ImportSchemaGen'} | {
      f'{c}_{s}' for c in ('ExampleGen', 'StatisticsGen', 'ExampleValidator', 'Transform')
      for s in approaches.TRAINING_SETS} | {
      f'{c}_{a.name}' for c in ('Trainer', 'Resolver', 'Evaluator', 'Pusher')
      for a in approaches.APPROACHES}
  assert expected <= {t.split('-')[0] for t in tasks} | tasks, tasks
  assert 'DataflowRunner' in out.read_text()
  assert 'gcr.io/p/envsound:1' in out.read_text()


def test_compile_command_requires_a_bucket_and_an_image(tmp_path):
  args = _parse(['pipeline', 'compile', '--data', 'gs://b/a', '--output',
                 str(tmp_path / 'x.json')])
  with pytest.raises(EnvsoundError, match='--gcs-root'):
    args.func(args)


def test_transform_runs_in_the_mode_local_transform_uses():
  from envsound.components import transform  # pylint: disable=import-outside-toplevel
  from envsound.pipeline import pipeline  # pylint: disable=import-outside-toplevel
  cfg = configs.PipelineConfig(data_root='d', pipeline_root='r', serving_dir='s')
  schema = pipeline.schema_component(cfg)
  component = pipeline.transform_component(
      pipeline.example_gen_component(cfg, approaches.BALANCED), schema, approaches.BALANCED)
  assert component.exec_properties['force_tf_compat_v1'] == int(transform.TF_COMPAT_V1)

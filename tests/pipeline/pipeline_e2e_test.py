"""The whole pipeline on a few hundred sample clips: artifacts, pushed models, cache hits."""

import pathlib

import numpy as np
import pytest
import tensorflow as tf
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from envsound.core import approaches, features
from envsound import report
from envsound.components import atomic_pusher, quality_gate
from envsound.report.reference import REFERENCE_TITLE
from envsound.pipeline import local_runner, run_summary
from envsound.core.taxonomy import load_taxonomy
from tests.support.pipeline_cli import envsound, pipeline_config

pytestmark = pytest.mark.e2e
APPROACHES = tuple(a.name for a in approaches.APPROACHES)


def _expected_components():
  ids = {'ImportSchemaGen'}
  for training_set in approaches.TRAINING_SETS:
    ids |= {f'{c}_{training_set}' for c in
            ('ExampleGen', 'StatisticsGen', 'ExampleValidator', 'Transform', 'Reference')}
  for name in APPROACHES:
    ids |= {f'{c}_{name}' for c in ('Trainer', 'Evaluator', 'QualityGate', 'Pusher')}
  return ids


def _executions(metadata: str):
  """{component id: [execution states]} from ML Metadata."""
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = metadata
  store = metadata_store.MetadataStore(config)
  out = {}
  for ctx in store.get_contexts_by_type('node'):
    component = ctx.name.split('.', 1)[1]
    executions = store.get_executions_by_context(ctx.id)
    out[component] = {
        'states': sorted(e.last_known_state for e in executions),
        'outputs': len(store.get_artifacts_by_context(ctx.id))}
  return out


@pytest.fixture(scope='module')
def run(demo):
  """The demo's pipeline run, then its command once more by hand.

  Returns (cfg, metadata path, executions after the demo, executions after the rerun, data).
  """
  argv = demo.command('pipeline run')
  cfg = pipeline_config(argv)
  metadata = local_runner.metadata_path(cfg.pipeline_root)
  first = _executions(metadata)
  rerun = envsound(*argv, cwd=demo.workdir.parent)
  assert rerun.returncode == 0, rerun.stdout + rerun.stderr
  return cfg, metadata, first, _executions(metadata), pathlib.Path(cfg.data_root)


def test_every_component_ran_once_and_recorded_outputs(run):
  _, _, first, _, _ = run
  assert _expected_components() <= set(first)
  complete = metadata_store_pb2.Execution.COMPLETE
  for component in _expected_components():
    assert first[component]['states'] == [complete], component
    assert first[component]['outputs'] > 0, component


def test_second_run_hits_the_cache(run):
  _, _, _, second, _ = run
  complete, cached = metadata_store_pb2.Execution.COMPLETE, metadata_store_pb2.Execution.CACHED
  # The Evaluators re-run: their baseline input is new (the model the first run blessed),
  # and so do the gates after them. The Pushers then see the same model again and push no
  # duplicate version (next test).
  rerun = {f'{c}_{a}' for c in ('Evaluator', 'QualityGate', 'Pusher') for a in APPROACHES}
  for component in _expected_components() - rerun:
    assert second[component]['states'] == [complete, cached], component
  for component in rerun:
    assert second[component]['states'] == [complete, complete], component


def test_every_gate_records_its_decision_against_the_reference(run):
  _, metadata, _, _, _ = run
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = metadata
  store = metadata_store.MetadataStore(config)
  blessings = {a.uri.split('/')[-3]: a for a in store.get_artifacts_by_type('ModelBlessing')}
  references = {a.uri.split('/')[-3]: a
                for a in store.get_artifacts_by_type(quality_gate.Reference.TYPE_NAME)}
  for training_set in approaches.TRAINING_SETS:
    reference = references[f'Reference_{training_set}'].custom_properties
    assert 0.0 < reference['accuracy'].double_value <= 1.0
    assert 0.0 < reference['majority_rate'].double_value < 1.0
  for name in APPROACHES:
    gate = blessings[f'QualityGate_{name}'].custom_properties
    accuracy = gate['accuracy'].double_value
    assert 0.0 <= accuracy <= 1.0
    assert gate['blessed'].int_value == 1
    assert gate['reason'].string_value == (
        f'pushed: accuracy {accuracy:.3f}, at least --min-accuracy 0.000')
  summary = run_summary.summarize(metadata)
  for name in APPROACHES:
    assert f'{name}: pushed: accuracy ' in '\n'.join(summary)


def _pushed_versions(cfg, model_name):
  base = pathlib.Path(cfg.serving_dir) / model_name
  return sorted(p for p in base.iterdir() if p.name.isdigit()), base


def test_blessed_models_are_pushed_once_as_whole_versions(run):
  cfg = run[0]
  for approach in approaches.APPROACHES:
    versions, base = _pushed_versions(cfg, approach.model_name)
    assert len(versions) == 1, f'{base}: {versions}'  # the cached rerun pushes nothing
    assert (versions[0] / 'saved_model.pb').exists()
    assert not (base / atomic_pusher.STAGING).exists()


def test_pushed_model_returns_normalised_probabilities_with_class_names(run):
  cfg, _, _, _, data = run
  records = [r.numpy() for r in tf.data.TFRecordDataset(
      sorted(str(p) for p in (data / 'eval').glob('*.tfrecord'))).take(5)]
  names = load_taxonomy().names
  for approach in approaches.APPROACHES:
    versions, _ = _pushed_versions(cfg, approach.model_name)
    model = tf.saved_model.load(str(versions[0]))
    outputs = model.signatures[features.SERVING_SIGNATURE](
        **{features.SERIALIZED_INPUT: tf.constant(records)})
    probabilities = outputs[features.PROBABILITIES].numpy()
    assert probabilities.shape == (len(records), len(names))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert (probabilities >= 0).all()
    class_names = outputs[features.CLASS_NAMES].numpy()
    assert [n.decode() for n in class_names[0]] == list(names)
    top = outputs[features.TOP_CLASS].numpy()
    assert [t.decode() for t in top] == [names[i] for i in probabilities.argmax(axis=1)]


def _table_rows(markdown: str, section: str):
  """{first cell: cells} of the first markdown table under the heading ``section``."""
  body = markdown.split(f'{section}\n', 1)[1].split('\n#', 1)[0]
  rows = [[c.strip() for c in line.strip('|').split('|')]
          for line in body.splitlines() if line.startswith('| ')]
  return {row[0]: row for row in rows[2:]}  # after the header and alignment rows


def test_report_scores_every_approach_and_the_reference(run, tmp_path):
  cfg, metadata, _, _, _ = run
  path = report.write_report(cfg.pipeline_root, metadata, tmp_path / 'report')
  text = path.read_text()
  rows = _table_rows(text, '## Results')
  for title in [a.title for a in approaches.APPROACHES] + [REFERENCE_TITLE]:
    _, _, train_clips, eval_clips, accuracy, *_ = rows[title]
    assert int(train_clips.replace(',', '')) > 0 and int(eval_clips.replace(',', '')) > 0
    assert 0.0 <= float(accuracy) <= 1.0, rows[title]
  # The per-class tables come from the confusion matrices: every validation clip is in them.
  per_class = _table_rows(text, '### Recall')
  assert sum(int(row[1].replace(',', '')) for row in per_class.values()) == int(eval_clips)
  assert 'missing' not in text
  for name in APPROACHES + ('reference',):
    assert (path.parent / f'confusion_{name}.png').stat().st_size > 0
  for name in APPROACHES:
    assert (path.parent / f'training_{name}.png').stat().st_size > 0
  assert 'tensorboard --logdir' in text


def _clips(seed: int = 3):
  """uint8 clips of 3 to 10 frames, as users send them."""
  rng = np.random.default_rng(seed)
  return [rng.integers(0, 256, (frames, features.EMBEDDING_DIM), np.uint8)
          for frames in (3, 6, 10)]


@pytest.fixture(scope='module')
def served(run, demo):
  """The demo's ``envsound serve`` on the serving directory the pipeline wrote."""
  return run[0], demo


def _grpc_predict(stub, model: str, signature: str, batch: np.ndarray) -> np.ndarray:
  from tensorflow_serving.apis import predict_pb2  # pylint: disable=import-outside-toplevel
  request = predict_pb2.PredictRequest()
  request.model_spec.name = model
  request.model_spec.signature_name = signature
  request.inputs[features.EMBEDDING_INPUT].CopyFrom(tf.make_tensor_proto(batch))
  response = stub.Predict(request, timeout=60)
  return tf.make_ndarray(response.outputs[features.PROBABILITIES])


def test_served_exports_answer_as_the_saved_model_does(served):
  """Issue 12 item 2: gRPC Predict (uint8 and float), Classify and REST :predict on the
  models the pipeline pushed give what tf.saved_model.load gives on the same clips."""
  # pylint: disable=import-outside-toplevel
  import json
  import urllib.request
  import grpc
  from tensorflow_serving.apis import classification_pb2, prediction_service_pb2_grpc
  from envsound.core import records
  cfg, server = served
  clips = _clips()
  with grpc.insecure_channel(server.grpc_target) as channel:
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    for approach in approaches.APPROACHES:
      versions, _ = _pushed_versions(cfg, approach.model_name)
      model = tf.saved_model.load(str(versions[-1]))
      for clip in clips:
        batch = clip[None]
        expected = model.signatures[features.UINT8_SIGNATURE](
            **{features.EMBEDDING_INPUT: tf.constant(batch)})[features.PROBABILITIES].numpy()
        np.testing.assert_allclose(
            _grpc_predict(stub, approach.model_name, features.UINT8_SIGNATURE, batch),
            expected, atol=1e-5)
        floats = features.dequantize(batch.astype(np.float32))
        np.testing.assert_allclose(
            _grpc_predict(stub, approach.model_name, features.FLOAT_SIGNATURE, floats),
            expected, atol=1e-4)  # the float path requantises to the same bytes
        body = json.dumps({'signature_name': features.UINT8_SIGNATURE,
                           'instances': batch.tolist()}).encode()
        url = f'{server.rest_url}/v1/models/{approach.model_name}:predict'
        with urllib.request.urlopen(urllib.request.Request(url, body), timeout=60) as reply:
          rest = json.loads(reply.read())['predictions'][0][features.PROBABILITIES]
        np.testing.assert_allclose([rest], expected, atol=1e-5)
      request = classification_pb2.ClassificationRequest()
      request.model_spec.name = approach.model_name
      request.model_spec.signature_name = features.CLASSIFY_SIGNATURE
      for clip in clips:
        request.input.example_list.examples.add().ParseFromString(
            records.encode_clip_example(clip))
      result = stub.Classify(request, timeout=60).result
      expected = model.signatures[features.CLASSIFY_SIGNATURE](**{
          features.CLASSIFY_INPUT: tf.constant([records.encode_clip_example(c) for c in clips])})
      scores = expected[features.CLASSIFY_SCORES].numpy()
      names = [n.decode() for n in expected[features.CLASSIFY_CLASSES].numpy()[0]]
      for row, classifications in enumerate(result.classifications):
        got = {c.label: c.score for c in classifications.classes}
        np.testing.assert_allclose([got[n] for n in names], scores[row], atol=1e-5)


def test_the_desktop_client_draws_each_pushed_models_own_map(served, tmp_path, monkeypatch,
                                                             xvfb_display):
  """Issue 11 item 3: the window shows each pushed model's exported map (reference points
  from its reference_map signature, clips at its map_xy output, no UMAP fit in the client)
  with the separation figures its Trainer recorded for the results report."""
  # pylint: disable=import-outside-toplevel
  import json
  from tests.gui import model_map
  cfg, server = served
  clips = model_map.prepare(monkeypatch, tmp_path, _clips())
  for approach in approaches.APPROACHES:
    records = sorted(pathlib.Path(cfg.pipeline_root).glob(
        f'**/Trainer_{approach.name}/model_run/*/separation.json'))
    assert len(records) == 1, records
    with model_map.window(server.grpc_target, approach.model_name) as app:
      model_map.check(app, server.grpc_target, approach.model_name, clips,
                      json.loads(records[0].read_text()))

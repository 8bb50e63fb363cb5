"""The EvalConfig runs in TFMA as TFX's Evaluator runs it, on raw SequenceExamples."""

import apache_beam as beam
import pytest
import tensorflow_model_analysis as tfma
from tfx_bsl.tfxio import tensor_adapter

from envsound.core import features

from envsound.components import eval_config, local_transform
from tests.components.conftest import CLASS_NAMES


def _evaluate(model_dir, data, schema, config, out_dir):
  """What TFX's Evaluator executor does for a batched-input model (executor.py, TFX 1.16)."""
  config = tfma.utils.update_eval_config_with_defaults(config, has_baseline=False, rubber_stamp=True)
  shared = tfma.default_eval_shared_model(model_dir, eval_config=config)
  source = local_transform.raw_tfxio(data, schema)
  source._raw_record_column_name = tfma.constants.ARROW_INPUT_COLUMN  # pylint: disable=protected-access
  adapter = tensor_adapter.TensorAdapterConfig(arrow_schema=source.ArrowSchema(),
                                              tensor_representations=source.TensorRepresentations())
  with beam.Pipeline() as p:
    _ = (p | source.BeamSource()
         | tfma.ExtractEvaluateAndWriteResults(eval_shared_model=shared, eval_config=config,
                                               output_path=out_dir,
                                               tensor_adapter_config=adapter))
  return tfma.load_eval_result(out_dir), tfma.load_validation_result(out_dir)


@pytest.fixture(scope='module')
def evaluation(trained_cnn1d, transformed, raw_schema, tmp_path_factory):
  config = eval_config.build_eval_config(CLASS_NAMES, min_accuracy=0.5)
  return _evaluate(trained_cnn1d.serving_model_dir, transformed['raw']['eval'], raw_schema,
                   config, str(tmp_path_factory.mktemp('tfma')))


def test_metrics_overall_per_class_and_sliced_by_environment(evaluation):
  result, _ = evaluation
  slices = dict(result.slicing_metrics)
  overall = slices[()]['']['']
  assert overall['example_count']['doubleValue'] == 30
  assert overall[eval_config.ACCURACY]['doubleValue'] > 0.8
  for k in range(len(CLASS_NAMES)):
    per_class = slices[()][''][f'classId:{k}']
    assert {'recall', 'precision', 'f1_score'} <= set(per_class)
  # TFMA names aggregated metrics '<aggregation_type proto text>_<metric>'.
  macro = {name.split('\n_', 1)[1] for name in overall
           if name.startswith('macro_average: true')}
  assert {'recall', 'precision', 'f1_score'} <= macro
  by_env = {key: m for key, m in slices.items() if key}
  assert sorted(key[0][1] for key in by_env) == list(range(len(CLASS_NAMES)))
  assert all(m['']['']['example_count']['doubleValue'] == 10 for m in by_env.values())
  plots = dict(result.plots)[()]['']['']
  assert 'multiClassConfusionMatrixAtThresholds' in plots


def test_blessing_threshold(evaluation):
  _, validation = evaluation
  assert validation.validation_ok

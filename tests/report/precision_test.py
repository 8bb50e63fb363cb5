"""The report's per-environment average precision: a real SavedModel over real eval records."""

import numpy as np
import pytest
from sklearn import metrics as sk_metrics

from envsound.components import model_scoring
from envsound.core import approaches
from envsound.report import markdown, precision, runs
from envsound.report import scores as scores_lib
from tests.components.conftest import CLASS_NAMES, make_clips, write_records
from tests.support.tiny_model import export_tiny_model


class _Artifact:  # what the report reads of an ML Metadata artifact
  def __init__(self, uri):
    self.uri = str(uri)


def _evaluated(name, model_uri=None):
  result = runs.ApproachResult(approaches.by_name(name), model_uri=model_uri and str(model_uri))
  result.scores = scores_lib.scores_from_confusion(np.eye(len(CLASS_NAMES), dtype=np.int64))
  return result


@pytest.fixture(scope='module')
def run(tmp_path_factory):
  """A Trainer Model artifact (tiny SavedModel) and an ExampleGen eval split of 30 clips."""
  root = tmp_path_factory.mktemp('run')
  model = root / 'Trainer_cnn1d' / 'model' / '7'
  export_tiny_model(model, 0, CLASS_NAMES, seed=3).rename(model / 'Format-Serving')
  split = root / 'ExampleGen_balanced' / 'examples' / '5' / 'Split-eval'
  split.mkdir(parents=True)
  write_records(split / 'data.tfrecord', make_clips(30, seed=4))
  return model, split.parent


def test_every_evaluated_model_gets_its_eval_splits_average_precision(run, tmp_path):
  model, examples = run
  results = [_evaluated('cnn2d', tmp_path / 'no-such-model'), _evaluated('cnn1d', model),
             runs.ApproachResult(approaches.by_name('cnn1d_150k'))]
  record = runs.RunRecord(results, {approaches.BALANCED: _Artifact(examples)}, {}, {})
  problems = precision.add_average_precision(record, CLASS_NAMES)
  labels, probs = model_scoring.predict_split(str(model / 'Format-Serving'),
                                              str(examples / 'Split-eval' / '*'))
  expected = [sk_metrics.average_precision_score(labels == c, probs[:, c])
              for c in range(len(CLASS_NAMES))]
  np.testing.assert_allclose(results[1].scores.average_precision, expected)
  ids, _, _ = model_scoring.predict_clips(str(model / 'Format-Serving'),
                                          str(examples / 'Split-eval' / '*'))
  assert results[1].scores.clip_correct == dict(zip(ids, probs.argmax(1) == labels))
  assert len(set(ids)) == 30 and all(':' in i for i in ids)  # '<video_id>:<start seconds>'
  assert results[0].scores.clip_correct is None
  assert results[1].scores.mean_average_precision == pytest.approx(np.mean(expected))
  assert len(problems) == 1 and problems[0].startswith('cnn2d: average precision not scored')
  assert results[0].scores.average_precision is None
  assert results[2].scores is None  # not evaluated: nothing to score


def test_tables_show_mean_and_per_environment_average_precision():
  scored = scores_lib.scores_from_confusion(np.array([[2, 0, 0], [1, 1, 0], [0, 0, 0]]))
  scored.average_precision = np.array([0.9, 0.5, np.nan])
  unscored = scores_lib.scores_from_confusion(np.array([[2, 0, 0], [1, 1, 0], [0, 0, 0]]))
  text = markdown.per_class_tables(CLASS_NAMES, {'cnn1d': scored, 'reference': unscored})
  table = text.split('### Average precision')[1]
  assert '| rail | 2 | 0.900 | n/a |' in table and '| speech_crowd | 0 | n/a | n/a |' in table
  result = runs.ApproachResult(approaches.by_name('cnn1d'), train_clips=10, eval_clips=4,
                               scores=scored, blessed=True, pushed='3')
  row = markdown.results_table([result], unscored, (10, 4)).splitlines()[2]
  assert '| 0.750 | 0.733 | 0.700 | +0.000 |' in row  # accuracy, macro-F1, mean AP (0.9+0.5)/2

"""The results report's parts: reference model, scores, tables, plots, ranking text."""

import collections
import math

import numpy as np
import pytest
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
from sklearn import metrics

from envsound.core import approaches

from envsound import report
from envsound.components.reference import ReferenceResult
from envsound.report import (differences, markdown, plots, ranking, runs, separation_text,
                             tfma_results)
from envsound.report import reference as reference_lib
from envsound.report import scores as scores_lib

PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
NAMES = ('rail', 'nature', 'speech_crowd')


def _scores(confusion, evaluator_macro_f1=math.nan):
  return scores_lib.scores_from_confusion(np.array(confusion), evaluator_macro_f1)


def _result(name, accuracy=None, train_clips=100, eval_clips=400, epochs=3, **kwargs):
  """An ApproachResult; ``accuracy`` spreads a 400-clip diagonal over 3 classes."""
  result = runs.ApproachResult(approaches.by_name(name), train_clips=train_clips,
                                 eval_clips=eval_clips, **kwargs)
  if accuracy is None:
    result.missing = [f'Trainer_{name}', f'Evaluator_{name}']
    return result
  right = round(accuracy * eval_clips)
  confusion = np.zeros((3, 3), np.int64)
  confusion[0, 0], confusion[1, 1] = right // 2, right - right // 2
  confusion[2, 0] = eval_clips - right
  result.scores = _scores(confusion)
  result.blessed, result.pushed = True, '17'
  result.history = {'history': {'loss': [1.0] * epochs,
                                'val_accuracy': [0.2] + [0.1] * (epochs - 1)}}
  return result


def test_reference_scores_come_from_the_reference_components_confusion():
  result = ReferenceResult(accuracy=0.7, macro_f1=0.6, majority_rate=0.5, majority_class=0,
                           train_clips=100, eval_clips=10, c=0.1,
                           confusion=[[5, 0, 0], [1, 2, 0], [2, 0, 0]])
  scores = reference_lib.reference_scores(result)
  assert scores.accuracy == pytest.approx(0.7)
  np.testing.assert_array_equal(scores.confusion, result.confusion)
  assert math.isnan(scores.per_class[2, 1])  # class 2 is never predicted: no precision


def test_scores_from_confusion_match_scikit_learn():
  y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
  y_pred = np.array([0, 1, 0, 1, 2, 2, 2, 0, 2])
  scores = scores_lib.scores_from_predictions(y_true, y_pred, 4)
  precision, recall, f1, _ = metrics.precision_recall_fscore_support(
      y_true, y_pred, labels=[0, 1, 2, 3], zero_division=np.nan)
  np.testing.assert_allclose(scores.per_class, np.stack([recall, precision, f1], 1))
  assert scores.accuracy == pytest.approx(metrics.accuracy_score(y_true, y_pred))
  assert scores.macro_f1 == pytest.approx(
      metrics.f1_score(y_true, y_pred, labels=[0, 1, 2], average='macro'))


def test_confusion_from_tfma_plot_fills_omitted_defaults():
  plot = {'multiClassConfusionMatrixAtThresholds': {'matrices': [{'entries': [
      {'numWeightedExamples': 3.0},                                   # 0 -> 0
      {'predictedClassId': 2, 'numWeightedExamples': 1.0},            # 0 -> 2
      {'actualClassId': 1, 'numWeightedExamples': 2.0},               # 1 -> 0
      {'actualClassId': 2, 'predictedClassId': 2, 'numWeightedExamples': 4.0},
      {'actualClassId': 2, 'predictedClassId': -1, 'numWeightedExamples': 5.0},  # no prediction
  ]}]}}
  np.testing.assert_array_equal(tfma_results.confusion_from_plot(plot, 3),
                                [[3, 0, 1], [2, 0, 0], [0, 0, 4]])
  assert tfma_results.confusion_from_plot({}, 2).sum() == 0


def test_a_model_a_fraction_of_a_clip_short_of_the_goal_is_not_said_to_miss_it_by_zero():
  clips = 1034  # 0.03 of them is 31.02 clips: 31 more right than the reference falls short
  reference = _scores([[545, 0, 0], [0, 0, 0], [clips - 545, 0, 0]])
  line = markdown.reference_lines([_result('cnn2d', 576 / clips, eval_clips=clips)],
                                  reference)[0]
  assert 'accuracy +0.030' in line and line.endswith(
      'it misses the goal (reference + 0.03) by less than 0.001.')


def test_scores_from_eval_result_reads_the_overall_slice():
  EvalResult = collections.namedtuple('EvalResult', 'slicing_metrics plots')
  plot = {'multiClassConfusionMatrixAtThresholds': {'matrices': [{'entries': [
      {'numWeightedExamples': 3.0}, {'actualClassId': 1, 'numWeightedExamples': 1.0}]}]}}
  overall = {'': {'': {tfma_results.ACCURACY: {'doubleValue': 0.75},
                       tfma_results.MACRO_F1: {'doubleValue': 'NaN'}}}}
  result = EvalResult(slicing_metrics=[((('environment_xf', 0),), {}), ((), overall)],
                      plots=[((), {'': {'': plot}})])
  scores = tfma_results.scores_from_eval_result(result, 2)
  assert scores.accuracy == 0.75 and math.isnan(scores.evaluator_macro_f1)
  np.testing.assert_array_equal(scores.confusion, [[3, 0], [1, 0]])
  assert scores.per_class[0, 0] == 1.0 and scores.per_class[0, 1] == 0.75


def test_plots_write_pngs(tmp_path):
  plots.plot_confusion(np.array([[5, 1, 0], [2, 3, 0], [0, 0, 0]]), NAMES,
                        tmp_path / 'confusion.png', 'Approach\naccuracy 0.5')
  plots.plot_history({'loss': [2.0, 1.5], 'val_loss': [2.1, 1.9], 'accuracy': [0.3, 0.4],
                       'val_accuracy': [0.25, 0.35]}, tmp_path / 'curves.png', 'Approach')
  plots.plot_history({'loss': [2.0], 'val_loss': [2.1]}, tmp_path / 'one_epoch.png', 'One')
  for name in ('confusion.png', 'curves.png', 'one_epoch.png'):
    assert (tmp_path / name).read_bytes()[:8] == PNG_MAGIC


def test_results_table_lists_every_approach_reference_deltas_and_missing_ones():
  reference = _scores([[40, 10, 0], [10, 40, 0], [50, 0, 250]])  # accuracy 0.825
  results = [_result('cnn2d'), _result('cnn1d', 0.5), _result('cnn1d_150k', 0.9)]
  table = markdown.results_table(results, reference, (100, 400))
  lines = table.splitlines()
  assert len(lines) == 2 + 4
  assert 'missing: Trainer_cnn2d, Evaluator_cnn2d did not run' in lines[2]
  assert '| 0.500 |' in lines[3] and '| -0.325 |' in lines[3] and 'yes / v17' in lines[3]
  assert '| +0.075 |' in lines[4] and '| 0.43 |' in lines[4]
  assert lines[5].startswith(f'| {reference_lib.REFERENCE_TITLE} | balanced | 100 | 400 | 0.825 |')
  text = '\n'.join(markdown.reference_lines(results, reference))
  assert 'Approach 1 (cnn2d): missing' in text
  assert 'Approach 2 (cnn1d) does not beat the reference: accuracy -0.325' in text
  assert 'Approach 3 (cnn1d_150k) beats the reference on accuracy only: accuracy +0.075' in text
  se = np.hypot(np.sqrt(0.9 * 0.1 / 400), np.sqrt(0.825 * 0.175 / 400))
  assert f'accuracy +0.075 ± {se:.3f} (standard error of the difference)' in text
  assert 'it meets the goal (reference + 0.03).' in text
  assert 'it misses the goal (reference + 0.03) by 0.355.' in text  # approach 2: -0.325
  assert 'missing' in markdown.results_table(results, None, (None, None)).splitlines()[-1]
  results[1].gate_reason = 'not pushed: accuracy 0.500, reference 0.825, majority class 0.750'
  line = markdown.reference_lines(results, reference)[1]
  assert line.startswith('- Approach 2 (cnn1d) does not beat the reference: accuracy -0.325')
  assert line.endswith('. Quality gate: not pushed: accuracy 0.500, reference 0.825, '
                       'majority class 0.750.')


def test_per_class_tables_give_one_column_per_model():
  text = markdown.per_class_tables(NAMES, {'cnn1d': _scores([[2, 0, 0], [1, 1, 0], [0, 0, 0]])})
  assert '### Recall' in text and '### Precision' in text and '### F1' in text
  assert '| rail | 2 | 1.000 |' in text
  assert '| speech_crowd | 0 | n/a |' in text


def test_ranking_text_when_the_research_project_order_holds():
  text = ranking.ranking_text([_result('cnn2d', 0.3), _result('cnn1d', 0.5),
                              _result('cnn1d_150k', 0.7)], NAMES)
  assert 'this run: Approach 3 (0.700) > Approach 2 (0.500) > Approach 1 (0.300)' in text
  assert 'The approaches rank as the research project reports.' in text
  # 400 clips each, no per-clip correctness: unpaired standard errors in quadrature.
  se = math.hypot(math.sqrt(0.7 * 0.3 / 400), math.sqrt(0.5 * 0.5 / 400))
  assert f'Approach 3 − Approach 2 = +0.200 ± {se:.3f} (unpaired, 400 clips)' in text
  assert ('The order Approach 3 > Approach 2 > Approach 1 holds beyond two standard errors '
          'at every step.') in text


def _correct(n_right, n=400):
  return {f'clip{i}': i < n_right for i in range(n)}


def test_ranking_pairs_each_step_on_the_clips_both_models_scored():
  results = [_result('cnn2d', 0.5), _result('cnn1d', 0.52), _result('cnn1d_150k', 0.7)]
  for r, right in zip(results, (200, 208, 280)):
    r.scores.clip_correct = _correct(right)
  text = ranking.ranking_text(results, NAMES)
  # cnn1d is right on clips 0..207, cnn2d on 0..199: 8 clips differ, all the same way.
  d = np.array([1.0] * 8 + [0.0] * 392)
  assert (f'Approach 2 − Approach 1 = +0.020 ± {d.std(ddof=1) / 20:.3f} (paired, 400 shared '
          'clips)') in text
  assert 'does not hold beyond two standard errors at every step: not at Approach 2 − ' \
      'Approach 1.' not in text  # 0.020 > 2 x 0.007: it holds
  assert 'holds beyond two standard errors at every step' in text
  results[0].scores.clip_correct = {f'clip{i}': i % 2 == 0 for i in range(400)}  # 200 right
  text = ranking.ranking_text(results, NAMES)
  assert 'not at Approach 2 − Approach 1.' in text  # +0.020 ± 0.035 now


def test_accuracy_difference_pairs_only_shared_clips():
  a, b = _scores([[3, 0], [0, 1]]), _scores([[1, 2], [0, 1]])
  assert not differences.accuracy_difference(a, b).paired
  a.clip_correct = {'x': True, 'y': True, 'z': False}
  b.clip_correct = {'y': False, 'z': False, 'w': True}
  d = differences.accuracy_difference(a, b)
  assert (d.paired, d.clips, d.value) == (True, 2, 0.5)
  assert d.standard_error == pytest.approx(np.std([1.0, 0.0], ddof=1) / math.sqrt(2))


def test_ranking_text_explains_a_different_order_with_numbers():
  results = [_result('cnn2d', 0.1), _result('cnn1d', 0.53, train_clips=1572, epochs=2),
             _result('cnn1d_150k', 0.5, train_clips=11004, epochs=2)]
  text = ranking.ranking_text(results, NAMES, cap=150_000, capped=False)
  assert 'The ranking differs' in text
  assert 'Approach 3 does not beat Approach 2 (0.500 vs 0.530)' in text
  assert 'Approach 3 11,004, Approach 2 1,572' in text
  assert 'capped by the available data' in text and '(cap 150,000)' in text
  assert 'Epochs: Approach 3 2, Approach 2 2' in text
  assert 'Approach 1 predicts rail for 95% of the validation clips' in text
  assert 'not at Approach 3 − Approach 2.' in text  # -0.030, inside two standard errors


def test_ranking_text_without_enough_approaches():
  text = ranking.ranking_text([_result('cnn2d'), _result('cnn1d'), _result('cnn1d_150k', 0.6)],
                             NAMES)
  assert 'no ranking to compare' in text


def test_write_report_on_an_empty_run_lists_everything_as_missing(tmp_path):
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = str(tmp_path / 'metadata.sqlite')
  metadata_store.MetadataStore(config)  # creates an empty database
  path = report.write_report(str(tmp_path), str(tmp_path / 'metadata.sqlite'),
                             tmp_path / 'report')
  text = path.read_text()
  assert path.name == report.REPORT_FILE
  for approach in approaches.APPROACHES:
    assert f'- {approach.title.split(":")[0]} ({approach.name}): missing' in text
  assert "balanced set's Reference component did not run" in text
  assert 'no ranking to compare' in text
  assert sorted(p.name for p in path.parent.iterdir()) == [report.REPORT_FILE]


def test_scores_of_an_empty_confusion_are_undefined():
  scores = scores_lib.scores_from_confusion(np.zeros((3, 3), np.int64))
  assert math.isnan(scores.accuracy) and math.isnan(scores.macro_f1)
  assert np.isnan(scores.per_class).all() and scores.confusion.shape == (3, 3)


def _separated(result, embedding_knn, map_knn, clusters):
  figures = lambda knn, c: {'knn_agreement': knn, 'chance': 0.2, 'silhouette': 0.1,
                            'clusters': c, 'n': 300}
  result.separation = {'n': 300, 'k': 10, 'embedding': figures(embedding_knn, 5),
                       'map': figures(map_knn, clusters)}
  return result


def test_separation_table_and_ranking_against_accuracy_and_the_cluster_claim():
  results = [_result('cnn2d'),
             _separated(_result('cnn1d', 0.5), 0.40, 0.45, clusters=3),
             _separated(_result('cnn1d_150k', 0.6), 0.55, 0.35, clusters=2)]
  table = separation_text.separation_table(results).splitlines()
  assert len(table) == 2 + 2  # the approach without figures has no row
  assert table[2].startswith('| Approach 2: 1D CNN on raw embeddings | 300 | 0.400 (0.200) |')
  text = separation_text.separation_ranking(results)
  assert 'By accuracy: Approach 3 > Approach 2.' in text
  assert 'kNN agreement on the embedding gives the same order: Approach 3 > Approach 2.' in text
  assert 'kNN agreement on the map gives a different order: Approach 2 > Approach 3.' in text
  assert 'this run: 2 versus 3 (more clusters on approach 3\'s map: no)' in text


def test_report_without_separation_figures_says_so():
  results = [_result('cnn2d'), _result('cnn1d', 0.5), _result('cnn1d_150k')]
  text = report.write.render(runs.RunRecord(results, {}, {}, {}), None, '',
                             NAMES, '/root')
  assert 'No model recorded separation figures' in text

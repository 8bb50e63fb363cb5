"""The paired bootstrap of mAP differences on cases with known answers."""

import numpy as np
import pytest
from sklearn import metrics as sk_metrics

from envsound.components import multilabel_metrics, tagging_uncertainty


def _data(seed=0, clips=60, classes=4):
  rng = np.random.default_rng(seed)
  y = (rng.random([clips, classes]) < 0.3).astype(np.int64)
  y[0] = 1  # every class has a positive
  scores = np.round(y * 0.3 + rng.random([clips, classes]), 1)  # rounded: many ties
  return y, scores


def test_average_precision_with_counts_is_sklearns_with_sample_weight():
  y, scores = _data()
  counts = tagging_uncertainty.bootstrap_counts(len(y), 3, seed=1)
  ap = tagging_uncertainty.weighted_average_precision(y, scores, counts)
  for row, weights in enumerate(counts):
    for c in range(y.shape[1]):
      kept = weights > 0
      expected = sk_metrics.average_precision_score(y[kept, c], scores[kept, c],
                                                    sample_weight=weights[kept])
      assert ap[row, c] == pytest.approx(expected, abs=1e-12)


def test_unit_weights_give_multilabel_metrics_average_precision():
  y, scores = _data(seed=2)
  ap = tagging_uncertainty.weighted_average_precision(y, scores, np.ones([1, len(y)]))[0]
  np.testing.assert_allclose(ap, multilabel_metrics.average_precision(y, scores), atol=1e-12)


def test_identical_scores_differ_by_zero_with_zero_standard_error():
  y, scores = _data()
  result = tagging_uncertainty.paired_map_difference(y, scores, scores.copy(), resamples=50)
  assert (result.difference, result.standard_error) == (0.0, 0.0)
  assert not result.beyond_two_se


def test_the_difference_is_that_of_the_two_maps():
  y, a = _data(seed=3)
  _, b = _data(seed=4)
  result = tagging_uncertainty.paired_map_difference(y, a, b, resamples=20)
  expected = (multilabel_metrics.tagging_scores(y, a).mean_average_precision
              - multilabel_metrics.tagging_scores(y, b).mean_average_precision)
  assert result.difference == pytest.approx(expected, abs=1e-12)


def test_sets_of_scores_compare_their_mean_maps():
  y, a = _data(seed=3)
  _, b = _data(seed=4)
  _, c = _data(seed=5)
  mean_map = lambda s: multilabel_metrics.tagging_scores(y, s).mean_average_precision
  result = tagging_uncertainty.paired_map_difference(y, [a, b], [c], resamples=20)
  assert result.difference == pytest.approx((mean_map(a) + mean_map(b)) / 2 - mean_map(c),
                                            abs=1e-12)
  assert tagging_uncertainty.paired_map_difference(y, [a, b], [b, a], resamples=20) == (
      tagging_uncertainty.MapDifference(0.0, 0.0, 20))


def test_a_two_clip_case_worked_by_hand():
  # One class, a positive and a negative clip; a ranks them right (AP 1), b wrong (AP 0.5).
  y = np.array([[1], [0]])
  a, b = np.array([[0.9], [0.1]]), np.array([[0.1], [0.9]])
  draws = np.array([[2, 0], [1, 1], [0, 2]])
  np.testing.assert_array_equal(
      tagging_uncertainty.weighted_average_precision(y, a, draws)[:, 0], [1.0, 1.0, np.nan])
  np.testing.assert_array_equal(
      tagging_uncertainty.weighted_average_precision(y, b, draws)[:, 0], [1.0, 0.5, np.nan])
  # Drawing both clips has probability 1/2, the positive twice 1/4 (difference 0), the
  # negative twice 1/4 (no positive: dropped); so the difference is 0.5 with probability 2/3
  # among the kept resamples and its standard deviation 0.5 * sqrt(2/3 * 1/3).
  result = tagging_uncertainty.paired_map_difference(y, a, b, resamples=4000, seed=5)
  assert result.difference == 0.5
  assert result.standard_error == pytest.approx(0.5 * np.sqrt(2 / 9), abs=0.01)
  assert result.resamples == pytest.approx(3000, rel=0.05)
  assert result.beyond_two_se


def test_bad_inputs_are_named():
  y, scores = _data()
  with pytest.raises(ValueError, match='must all be'):
    tagging_uncertainty.paired_map_difference(y, scores, scores[:10])
  with pytest.raises(ValueError, match='0 or 1'):
    tagging_uncertainty.paired_map_difference(y * 2, scores, scores)
  with pytest.raises(ValueError, match='no class has a positive'):
    tagging_uncertainty.paired_map_difference(np.zeros_like(y), scores, scores)

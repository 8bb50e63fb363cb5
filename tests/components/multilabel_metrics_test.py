"""The literature's tagging metrics against scikit-learn and hand-worked inputs."""

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as sk_metrics

from envsound.components import multilabel_metrics as mm


def _random_tags(seed=0, clips=200, classes=6):
  rng = np.random.default_rng(seed)
  y = (rng.random([clips, classes]) < 0.3).astype(int)
  scores = y * rng.normal(1.0, 1.0, y.shape) + rng.normal(0, 1.0, y.shape)
  return y, scores


def test_hand_worked_ap_and_auc():
  y = np.array([[1], [0], [1], [0]])
  s = np.array([[0.9], [0.8], [0.3], [0.1]])
  assert mm.average_precision(y, s)[0] == pytest.approx((1 + 2 / 3) / 2)
  assert mm.auc(y, s)[0] == pytest.approx(3 / 4)


def test_means_agree_with_scikit_learn_macro_averages():
  y, scores = _random_tags()
  got = mm.tagging_scores(y, scores)
  assert got.mean_average_precision == pytest.approx(
      sk_metrics.average_precision_score(y, scores, average='macro'))
  assert got.mean_auc == pytest.approx(sk_metrics.roc_auc_score(y, scores, average='macro'))
  assert got.d_prime == pytest.approx(np.sqrt(2) * stats.norm.ppf(got.mean_auc))
  assert (got.ap_classes, got.auc_classes) == (6, 6)
  assert 0.5 < got.mean_auc < 1.0


def test_d_prime_known_values():
  assert mm.d_prime(0.5) == pytest.approx(0.0, abs=1e-12)
  assert mm.d_prime(stats.norm.cdf(1 / np.sqrt(2))) == pytest.approx(1.0)
  assert mm.d_prime(0.3) < 0


def test_classes_without_positives_or_negatives_are_left_out():
  y, scores = _random_tags(seed=1, classes=4)
  y[:, 1] = 0   # no positives: no AP, no AUC
  y[:, 2] = 1   # no negatives: AP 1 (every clip is positive), no AUC
  ap, roc = mm.average_precision(y, scores), mm.auc(y, scores)
  assert np.isnan(ap[1]) and ap[2] == pytest.approx(1.0)
  assert np.isnan(roc[1]) and np.isnan(roc[2])
  got = mm.tagging_scores(y, scores)
  keep = [0, 3]
  assert got.mean_auc == pytest.approx(sk_metrics.roc_auc_score(y[:, keep], scores[:, keep]))
  assert got.mean_average_precision == pytest.approx(np.mean(ap[[0, 2, 3]]))
  assert (got.ap_classes, got.auc_classes) == (3, 2)


def test_per_class_average_precision_of_a_single_label_classifier():
  rng = np.random.default_rng(2)
  labels = rng.integers(0, 3, 300)
  logits = rng.normal(size=[300, 3]) + 2.0 * np.eye(3)[labels]
  probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
  got = mm.per_class_average_precision(labels, probs, ['rail', 'nature', 'speech'])
  assert list(got) == ['rail', 'nature', 'speech']
  for c, name in enumerate(got):
    assert got[name] == pytest.approx(
        sk_metrics.average_precision_score(labels == c, probs[:, c]))
  absent = mm.per_class_average_precision(np.zeros(5, int), np.full([5, 2], 0.5), ['a', 'b'])
  assert absent['a'] == 1.0 and np.isnan(absent['b'])


def test_bad_inputs_raise_one_line_errors():
  with pytest.raises(ValueError, match='must both be'):
    mm.tagging_scores(np.zeros([3, 2]), np.zeros([3, 3]))
  with pytest.raises(ValueError, match='0 or 1'):
    mm.average_precision(np.full([2, 2], 2), np.zeros([2, 2]))
  with pytest.raises(ValueError, match='no class'):
    mm.tagging_scores(np.zeros([3, 2], int), np.zeros([3, 2]))
  with pytest.raises(ValueError, match=r'\[0, 2\)'):
    mm.per_class_average_precision(np.array([2]), np.zeros([1, 2]), ['a', 'b'])

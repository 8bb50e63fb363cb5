"""Tests for the separation figures on synthetic blobs whose right answer is known."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from envsound.core import separation


def blobs(k, dims, sizes=None, seed=0):
  """``k`` unit-variance Gaussian blobs at least 10 standard deviations apart."""
  if dims == 2:
    angles = 2 * np.pi * np.arange(k) / k
    centers = 10 / (2 * np.sin(np.pi / max(k, 2))) * np.stack([np.cos(angles), np.sin(angles)], 1)
  else:
    centers = 10 * np.eye(k, dims)
  sizes = sizes or [100] * k
  points, labels = make_blobs(n_samples=sizes, centers=centers, random_state=seed)
  return points, np.array([f'class{i}' for i in labels])


@pytest.mark.parametrize('k, dims', [(1, 2), (2, 2), (4, 2), (7, 2), (3, 64), (6, 64), (12, 64)])
def test_separated_blobs_are_counted_and_agree(k, dims):
  points, labels = blobs(k, dims)
  result = separation.measure(points, labels)
  assert result.clusters == k
  assert result.n == len(points)
  assert result.knn_agreement > 0.99
  if k > 1:
    assert result.silhouette > 0.2
  else:
    assert result.silhouette is None


def test_uneven_blobs_keep_the_small_ones():
  points, labels = blobs(8, 2, sizes=[40, 60, 80, 100, 120, 140, 160, 300])
  assert separation.measure(points, labels).clusters == 8


@pytest.mark.parametrize('dims', [2, 64])
def test_shuffled_labels_agree_at_chance(dims):
  points, labels = blobs(4, dims, sizes=[150, 150, 100, 100])
  shuffled = np.random.default_rng(1).permutation(labels)
  result = separation.measure(points, shuffled)
  expected = (2 * 150 * 149 + 2 * 100 * 99) / (500 * 499)
  assert result.chance == pytest.approx(expected)
  assert abs(result.knn_agreement - expected) < 0.05
  assert abs(result.silhouette) < 0.05
  assert result.clusters == 4  # the count does not look at labels


def test_mixed_classes_score_between_chance_and_one():
  points, labels = blobs(4, 2)
  labels = labels.copy()
  labels[labels == 'class1'] = 'class0'  # two blobs share one label: neighbourhoods stay pure
  merged = separation.measure(points, labels)
  assert merged.knn_agreement > 0.99
  assert merged.silhouette < separation.measure(*blobs(4, 2)).silhouette


def test_k_above_n_and_duplicates_are_handled():
  points = np.zeros((4, 3))
  result = separation.measure(points, ['a', 'a', 'b', 'b'], k=10)
  assert result.knn_agreement == pytest.approx(1 / 3)
  assert result.clusters == 0
  assert separation.measure(np.zeros((1, 2)), ['a']).knn_agreement is None


def test_mismatched_lengths_are_refused():
  with pytest.raises(ValueError, match='3 labels'):
    separation.measure(np.zeros((4, 2)), ['a', 'b', 'c'])


def test_compare_scores_both_spaces():
  points, labels = blobs(3, 64)
  result = separation.compare(points, points[:, :2] * 0, labels)
  assert result['embedding'].knn_agreement > 0.99
  assert result['map'].clusters <= 1  # every point at the origin is one group
  assert 'kNN agreement' in str(result['embedding'])

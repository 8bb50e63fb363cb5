"""UMAP maps fitted in the client, without a display."""

import numpy as np
import pytest

from envsound.gui import projection


def _blobs(n_per, centres, dim=16, seed=0, spread=1.0):
  rng = np.random.default_rng(seed)
  x = np.concatenate([c + spread * rng.normal(size=(n_per, dim)) for c in centres])
  labels = np.repeat([f'class{i}' for i in range(len(centres))], n_per)
  return x.astype(np.float32), labels


@pytest.fixture(scope='module')
def separated():
  rng = np.random.default_rng(1)
  centres = rng.normal(size=(4, 16)) * 20
  return _blobs(40, centres)


def test_fit_and_transform_shapes(separated):
  x, labels = separated
  p = projection.fit(x, labels, seed=0)
  assert p.points.shape == (len(x), 2) and list(p.labels) == list(labels)
  new = p.transform(x[:7] + 0.01)
  assert new.shape == (7, 2) and np.all(np.isfinite(new))
  assert p.transform(np.zeros((0, 16))).shape == (0, 2)


def test_new_points_land_near_their_class(separated):
  x, labels = separated
  p = projection.fit(x, labels, seed=0)
  new = p.transform(x[:5])  # class0 clips
  centre = {c: p.points[p.labels == c].mean(axis=0) for c in set(labels)}
  nearest = [min(centre, key=lambda c: np.linalg.norm(pt - centre[c])) for pt in new]
  assert nearest == ['class0'] * 5


def test_tiny_sets_do_not_fail():
  x, labels = _blobs(4, [np.zeros(16)])
  p = projection.fit(x[:3], labels[:3])
  assert p.points.shape == (3, 2) and p.transform(x).shape == (4, 2)


def test_mismatched_labels_raise(separated):
  x, labels = separated
  with pytest.raises(ValueError, match='labels'):
    projection.fit(x, labels[:-1])

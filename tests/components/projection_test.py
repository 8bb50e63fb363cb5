"""The model map's pieces: stratified reference sampling and the parametric projection."""

import numpy as np

from envsound.components import projection


def test_stratified_sample_keeps_rare_classes_whole_and_fills_the_cap():
  labels = np.array([0] * 50 + [1] * 3 + [2] * 20)
  keep = projection.stratified_sample(labels, 30, seed=0)
  assert len(keep) == 30 and len(set(keep)) == 30
  counts = np.bincount(labels[keep], minlength=3)
  assert counts[1] == 3  # the rare class whole
  assert abs(int(counts[0]) - int(counts[2])) <= 1  # the rest shared evenly
  np.testing.assert_array_equal(keep, projection.stratified_sample(labels, 30, seed=0))
  assert not np.array_equal(keep, projection.stratified_sample(labels, 30, seed=1))
  np.testing.assert_array_equal(projection.stratified_sample(labels, 500, seed=0),
                                np.arange(len(labels)))


def test_projection_regresses_map_coordinates():
  rng = np.random.default_rng(0)
  points = rng.normal(size=[200, 6]).astype(np.float32)
  # A smooth target far from zero and unit scale: the network must learn the offset too.
  xy = np.stack([3 * points[:, 0] + 40, np.tanh(points[:, 1]) * 5 - 7], axis=1)
  net = projection.fit_projection(points, xy, seed=0, epochs=150)
  got = net.predict(points, verbose=0)
  assert got.shape == (200, 2)
  rmse = np.sqrt(((got - xy) ** 2).mean(0))
  assert (rmse < 0.2 * xy.std(0)).all(), rmse

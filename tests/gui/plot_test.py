"""The map's view: every point in sight, new clips off the reference map included."""

import numpy as np
from matplotlib.figure import Figure

from envsound.gui import plot


def test_the_view_holds_clips_that_fall_off_the_reference_map():
  ax = Figure().add_subplot()
  reference = np.random.default_rng(0).normal(size=(50, 2))
  new = np.array([[12.0, -9.0], [np.nan, 1.0]])  # far off; a point with no position
  ax.scatter(reference[:, 0], reference[:, 1])
  assert plot._frame(ax, reference, new) == 0  # pylint: disable=protected-access
  (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
  for x, y in np.concatenate([reference, new[:1]]):
    assert x0 < x < x1 and y0 < y < y1, (x, y)
  assert x1 - x0 < 2 * (12.0 - reference[:, 0].min())  # a margin, not a zoom out
  assert not ax.get_autoscale_on()  # marks added later leave the view alone


def test_a_clip_thousands_of_maps_away_is_left_out_of_the_view_and_counted():
  ax = Figure().add_subplot()
  reference = np.random.default_rng(1).normal(size=(50, 2))
  new = np.array([[0.5, 0.5], [6.0e4, 2.0e4], [-90.0, -230.0]])
  assert plot._frame(ax, reference, new) == 2  # pylint: disable=protected-access
  (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
  (lx, ly), (hx, hy) = reference.min(axis=0), reference.max(axis=0)
  assert x0 < lx and y0 < ly and x1 > hx and y1 > hy  # every reference point in view
  assert x1 - x0 < 1.2 * np.ptp(reference[:, 0])  # the map fills the view

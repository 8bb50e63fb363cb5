"""The map's view: every point in sight, new clips off the reference map included."""

import numpy as np
from matplotlib.figure import Figure

from envsound.gui import plot


def test_the_view_holds_clips_that_fall_off_the_reference_map():
  ax = Figure().add_subplot()
  reference = np.random.default_rng(0).normal(size=(50, 2))
  new = np.array([[12.0, -9.0], [np.nan, 1.0]])  # far off; a point with no position
  ax.scatter(reference[:, 0], reference[:, 1])
  plot._frame(ax, reference, new)  # pylint: disable=protected-access
  (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
  for x, y in np.concatenate([reference, new[:1]]):
    assert x0 < x < x1 and y0 < y < y1, (x, y)
  assert x1 - x0 < 2 * (12.0 - reference[:, 0].min())  # a margin, not a zoom out
  assert not ax.get_autoscale_on()  # marks added later leave the view alone

"""Box and lasso selection on the map's axes (matplotlib's RectangleSelector, LassoSelector)."""

from typing import Callable, List, Optional

from matplotlib.path import Path
from matplotlib.widgets import LassoSelector, RectangleSelector
import numpy as np


class Selectors:
  """One selector of each kind per axes; ``tool`` says which one is active.

  Args:
    axes: the map's axes.
    scatters: returns the user's clips' scatter per axes (drawn after construction).
    on_select: called with (panel, indices of the clips inside the shape).
  """
  CLICK, BOX, LASSO = 'click', 'box', 'lasso'
  TOOLS = (CLICK, BOX, LASSO)

  def __init__(self, axes, scatters: Callable[[], List],
               on_select: Optional[Callable[[int, List[int]], None]]):
    self._axes = list(axes)
    self._scatters = scatters
    self._on_select = on_select
    self.tool = self.CLICK
    self._box: List = []
    self._lasso: List = []
    self.rebuild()

  def rebuild(self) -> None:
    """Makes fresh selectors: clearing an axes removes the artists they draw with."""
    for selector in self._box + self._lasso:
      selector.disconnect_events()
    self._box = [RectangleSelector(ax, lambda a, b, k=k: self._boxed(k, a, b), useblit=False,
                                   button=[1], interactive=False, minspanx=3, minspany=3,
                                   spancoords='pixels') for k, ax in enumerate(self._axes)]
    self._lasso = [LassoSelector(ax, lambda verts, k=k: self._lassoed(k, verts), useblit=False,
                                 button=[1]) for k, ax in enumerate(self._axes)]
    self.set_tool(self.tool)

  def set_tool(self, tool: str) -> None:
    if tool not in self.TOOLS:
      raise ValueError(f'unknown selection tool {tool!r}')
    self.tool = tool
    for box in self._box:
      box.set_active(tool == self.BOX)
    for lasso in self._lasso:
      lasso.set_active(tool == self.LASSO)

  def _inside(self, panel: int, path: Path) -> List[int]:
    scatters = self._scatters()
    if panel >= len(scatters):
      return []
    xy = np.asarray(scatters[panel].get_offsets(), np.float64).reshape(-1, 2)
    return [int(i) for i in np.flatnonzero(path.contains_points(xy))] if len(xy) else []

  def _boxed(self, panel: int, press, release) -> None:
    if abs(press.x - release.x) < 3 or abs(press.y - release.y) < 3:
      return  # a click, not a box: matplotlib reports it too
    x0, x1 = sorted((press.xdata, release.xdata))
    y0, y1 = sorted((press.ydata, release.ydata))
    path = Path([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)], closed=True)
    self._report(panel, self._inside(panel, path))

  def _lassoed(self, panel: int, verts) -> None:
    self._report(panel, self._inside(panel, Path(verts)) if len(verts) > 2 else [])

  def _report(self, panel: int, indices: List[int]) -> None:
    if self._on_select is not None:
      self._on_select(panel, indices)

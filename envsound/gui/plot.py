"""The map inside the window: matplotlib on TkAgg with toolbar, legend, tooltips, selection.

Reference clips are small dots, the user's clips large black-edged stars drawn on top.
Hovering a point shows what it is. With the Click tool, clicking a point reports it
(its nearest neighbours are then listed and marked); with the Box or Lasso tool, dragging
reports the user's clips inside the drawn shape.
"""

import tkinter as tk
import types
from tkinter import ttk
from typing import Callable, Dict, List, Optional, Sequence

import matplotlib
from matplotlib.backends.backend_tkagg import FigureCanvasTkAgg, NavigationToolbar2Tk
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
import mplcursors
import numpy as np

from envsound.gui import neighbours as nn
from envsound.gui.panels import Panel
from envsound.gui.selection import Selectors

NEW_LABEL = 'your clips'
SELECTED = 'crimson'
NEIGHBOUR = '#0a84ff'


def class_colours(labels: Sequence[str]) -> Dict[str, tuple]:
  """A stable colour per class name (sorted order into tab10/tab20/turbo)."""
  names = sorted(set(labels))
  cmap = matplotlib.colormaps['tab10' if len(names) <= 10 else
                              'tab20' if len(names) <= 20 else 'turbo']
  count = max(len(names) - 1, 1)
  return {n: cmap(i if cmap.N < 256 else i / count) for i, n in enumerate(names)}


class MapView(ttk.Frame):
  """One or more side-by-side maps in a Tk frame.

  Args:
    parent: the containing widget.
    panels: how many maps side by side.
    on_pick: called with (panel, Point) when the user clicks a point (Click tool).
    on_select: called with (panel, clip indices) after a box or lasso (Box/Lasso tools).
    empty_text: shown before there is anything to draw.
  """

  def __init__(self, parent, panels: int = 1,
               on_pick: Optional[Callable[[int, nn.Point], None]] = None,
               on_select: Optional[Callable[[int, List[int]], None]] = None,
               empty_text: str = ''):
    super().__init__(parent)
    self._on_pick = on_pick
    self.figure = Figure(figsize=(6, 5), dpi=100, layout='constrained')
    self.axes = [self.figure.add_subplot(1, panels, i + 1) for i in range(panels)]
    self._title_size = 9 if panels == 1 else 8  # two titles side by side must not overlap
    self.canvas = FigureCanvasTkAgg(self.figure, master=self)
    self.toolbar = NavigationToolbar2Tk(self.canvas, self, pack_toolbar=False)
    self.toolbar.update()
    self.toolbar.pack(side=tk.BOTTOM, fill=tk.X)
    self.canvas.get_tk_widget().pack(side=tk.TOP, fill=tk.BOTH, expand=True)
    self.canvas.mpl_connect('pick_event', self._picked)
    # matplotlib scales the figure's dpi to Tk's scaling when the widget is mapped but does
    # not resize it then, so a scaled display would crop the figure; resize once more.
    self.canvas.get_tk_widget().bind('<Map>', lambda _e: self.after_idle(self._fit), add='+')
    self.selectors = Selectors(self.axes, lambda: self._new, on_select)
    self._new: List = []  # the user's clips' scatter per panel
    self._reference: List = []  # reference scatters per panel
    self._marks: List = []  # selection rings and neighbour marks
    self._cursor = None
    self._empty: Optional[str] = None  # the text shown while empty; None once drawn
    self.off_view: List[int] = []  # per drawn panel: new clips too far out to frame
    self.clear(empty_text)

  def clear(self, text: str = '') -> None:
    """Empties every map, showing ``text`` in the middle (nothing to do if it already does)."""
    if self._empty == text:
      return
    self._reset()
    self._empty = text
    for ax in self.axes:
      ax.clear()
      ax.set_xticks([])
      ax.set_yticks([])
      ax.text(0.5, 0.5, text, ha='center', va='center', transform=ax.transAxes,
              color='grey', wrap=True)
    self.selectors.rebuild()
    self.canvas.draw_idle()

  def _reset(self) -> None:
    self._drop_cursor()
    self._new, self._reference, self._marks = [], [], []
    for legend in list(self.figure.legends):
      legend.remove()

  def show(self, panels: Sequence[Panel]) -> None:
    """Draws each panel's reference and new points, a shared legend and tooltips."""
    self._reset()
    self._empty = None
    self.off_view = []
    for ax in self.axes[len(panels):]:
      ax.clear()
    colours = class_colours([l for p in panels for l in (*p.reference_labels, *p.new_labels)])
    texts = {}
    for ax, panel in zip(self.axes, panels):
      ax.clear()
      ax.set_title(panel.title, fontsize=self._title_size)
      ax.set_xticks([])
      ax.set_yticks([])
      ref = ax.scatter(panel.reference_points[:, 0], panel.reference_points[:, 1], s=9,
                       c=[colours[l] for l in panel.reference_labels] or None, alpha=0.6,
                       linewidths=0, picker=True, pickradius=4)
      new = ax.scatter(panel.new_points[:, 0], panel.new_points[:, 1], s=110, marker='*',
                       c=[colours[l] for l in panel.new_labels] or None, edgecolors='black',
                       linewidths=0.8, zorder=3, picker=True, pickradius=6)
      self.off_view.append(_frame(ax, panel.reference_points, panel.new_points))
      texts[ref], texts[new] = list(panel.reference_text), list(panel.new_text)
      self._reference.append(ref)
      self._new.append(new)
    handles = [Line2D([], [], ls='', marker='o', color=c, label=n) for n, c in colours.items()]
    if any(len(p.new_points) for p in panels):
      handles.append(Line2D([], [], ls='', marker='*', markersize=11, markerfacecolor='white',
                            markeredgecolor='black', label=NEW_LABEL))
    if len(self.axes) == 1:
      self.figure.legend(handles=handles, loc='outside right center', fontsize=8,
                         frameon=False)
    else:  # below side-by-side maps, which then keep the width their titles need
      self.figure.legend(handles=handles, loc='outside lower center', fontsize=8,
                         frameon=False, ncols=min(len(handles), 4))
    self._cursor = mplcursors.cursor(list(texts), hover=mplcursors.HoverMode.Transient)
    self._cursor.connect(
        'add', lambda sel: sel.annotation.set_text(texts[sel.artist][sel.index]))
    self.selectors.rebuild()
    self.canvas.draw_idle()

  def set_titles(self, titles: Sequence[str]) -> None:
    """Replaces the titles of the drawn panels."""
    for ax, text in zip(self.axes[:len(self._new)], titles):
      ax.set_title(text, fontsize=self._title_size)
    self.canvas.draw_idle()

  def mark(self, selected: Sequence[int] = (), picked: Optional[tuple] = None,
           near: Sequence[nn.Point] = ()) -> None:
    """Rings the selected clips in every panel; on ``picked = (panel, Point)`` also rings
    that point and marks its ``near`` neighbours (no redraw when there was and is nothing
    to mark)."""
    changed = bool(self._marks)
    for artist in self._marks:
      artist.remove()
    self._marks = []
    for k, ax in enumerate(self.axes[:len(self._new)]):
      if len(selected):
        xy = self._new[k].get_offsets()[list(selected)]
        self._marks.append(ax.scatter(xy[:, 0], xy[:, 1], s=420, facecolors='none',
                                      edgecolors=SELECTED, linewidths=2, zorder=4))
      if picked is not None and picked[0] == k:
        near_xy = np.array([self.offset(k, p) for p in near]).reshape(-1, 2)
        self._marks.append(ax.scatter(near_xy[:, 0], near_xy[:, 1], s=160, facecolors='none',
                                      edgecolors=NEIGHBOUR, linewidths=1.8, zorder=4))
        x, y = self.offset(k, picked[1])
        self._marks.append(ax.scatter([x], [y], s=300, marker='o', facecolors='none',
                                      edgecolors=SELECTED, linewidths=2.4, zorder=5))
    if changed or self._marks:
      self.canvas.draw_idle()

  def draw_now(self) -> None:
    """Renders the changes queued for idle time at once: the queued redraw runs now, so the
    figure is drawn once (a ``canvas.draw()`` here would leave it to run again later)."""
    self.canvas.get_tk_widget().update_idletasks()

  def offset(self, panel: int, point: nn.Point) -> np.ndarray:
    """Data coordinates of ``point`` in ``panel``."""
    scatter = (self._reference if point.kind == nn.REFERENCE else self._new)[panel]
    return np.asarray(scatter.get_offsets()[point.index], np.float64)

  def screen(self, panel: int, point: nn.Point) -> tuple:
    """Pixel position of ``point`` inside the canvas widget (x right, y down)."""
    x, y = self.axes[panel].transData.transform(self.offset(panel, point))
    return int(round(x)), int(round(self.canvas.get_tk_widget().winfo_height() - y))

  def counts(self) -> List[tuple]:
    """(reference points, new points) per drawn panel."""
    return [(len(r.get_offsets()), len(n.get_offsets()))
            for r, n in zip(self._reference, self._new)]

  def save_png(self, path) -> None:
    self.figure.savefig(path, dpi=150)

  def _fit(self) -> None:
    widget = self.canvas.get_tk_widget()
    self.canvas.resize(types.SimpleNamespace(width=widget.winfo_width(),
                                             height=widget.winfo_height()))

  def _drop_cursor(self) -> None:
    if self._cursor is not None:
      self._cursor.remove()
      self._cursor = None

  def _picked(self, event) -> None:
    if (self._on_pick is None or self.selectors.tool != Selectors.CLICK
        or not len(getattr(event, 'ind', ()))):  # other artists' pick events have no ind
      return
    for panel, (ref, new) in enumerate(zip(self._reference, self._new)):
      if event.artist in (ref, new):
        break
    else:
      return
    # Several points can lie under the pointer: take the one nearest to it. A star and a
    # dot under the pointer both fire; the star is drawn on top and wins.
    xy = event.artist.axes.transData.transform(event.artist.get_offsets()[event.ind])
    mouse = np.array([event.mouseevent.x, event.mouseevent.y])
    index = int(event.ind[np.argmin(np.linalg.norm(xy - mouse, axis=1))])
    kind = nn.CLIP if event.artist is new else nn.REFERENCE
    if kind == nn.REFERENCE and self._star_under(panel, mouse):
      return
    self._on_pick(panel, nn.Point(kind, index))

  def _star_under(self, panel: int, mouse: np.ndarray) -> bool:
    new = self._new[panel]
    if not len(new.get_offsets()):
      return False
    xy = new.axes.transData.transform(new.get_offsets())
    return bool(np.min(np.linalg.norm(xy - mouse, axis=1)) <= new.get_pickradius())


def _frame(ax, reference: np.ndarray, new: np.ndarray, margin: float = 0.05,
           reach: float = 3.0) -> int:
  """Fixes the view on the reference points and every new clip within ``reach`` times the
  reference map's size beyond it (clips off the reference map included), so marks added
  later do not move it; returns how many new clips lie farther out, outside the view (a
  position thousands of map widths away would shrink the map to a dot)."""
  reference, new = reference.reshape(-1, 2), new.reshape(-1, 2)
  reference = reference[np.isfinite(reference).all(axis=1)]
  new = new[np.isfinite(new).all(axis=1)]
  far = np.zeros(len(new), bool)
  if len(reference):
    low, high = reference.min(axis=0), reference.max(axis=0)
    room = reach * max(float(np.max(high - low)), 1e-3)
    far = ((new < low - room) | (new > high + room)).any(axis=1)
  points = np.concatenate([reference, new[~far]])
  if len(points):
    low, high = points.min(axis=0), points.max(axis=0)
    pad = np.maximum((high - low) * margin, 1e-3)
    ax.set_xlim(low[0] - pad[0], high[0] + pad[0])
    ax.set_ylim(low[1] - pad[1], high[1] + pad[1])
  ax.set_autoscale_on(False)
  return int(far.sum())

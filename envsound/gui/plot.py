"""The UMAP scatter inside the window: matplotlib on TkAgg with toolbar, legend and tooltips.

Reference clips are small dots coloured by their environment; the user's clips are large
stars coloured by their predicted class and edged in black, drawn on top. Hovering a point
shows what it is; clicking one of the user's clips selects its table row.
"""

import dataclasses
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

NEW_LABEL = 'your clips'


@dataclasses.dataclass
class Panel:
  """What one map shows."""
  title: str
  reference_points: np.ndarray  # [r, 2]
  reference_labels: Sequence[str]
  reference_text: Sequence[str]  # hover text per reference point
  new_points: np.ndarray  # [n, 2]
  new_labels: Sequence[str]  # predicted class per clip (colour)
  new_text: Sequence[str]  # hover text per clip


def class_colours(labels: Sequence[str]) -> Dict[str, tuple]:
  """A stable colour per class name (sorted order into tab10/tab20/turbo)."""
  names = sorted(set(labels))
  cmap = matplotlib.colormaps['tab10' if len(names) <= 10 else
                              'tab20' if len(names) <= 20 else 'turbo']
  count = max(len(names) - 1, 1)
  return {n: cmap(i if cmap.N < 256 else i / count) for i, n in enumerate(names)}


class MapView(ttk.Frame):
  """One or more side-by-side UMAP maps in a Tk frame.

  Args:
    parent: the containing widget.
    panels: how many maps side by side.
    on_pick: called with the clip index when the user clicks one of their clips.
    empty_text: shown before there is anything to draw.
  """

  def __init__(self, parent, panels: int = 1,
               on_pick: Optional[Callable[[int], None]] = None, empty_text: str = ''):
    super().__init__(parent)
    self._on_pick = on_pick
    self.figure = Figure(figsize=(6, 5), dpi=100, layout='constrained')
    self.axes = [self.figure.add_subplot(1, panels, i + 1) for i in range(panels)]
    self.canvas = FigureCanvasTkAgg(self.figure, master=self)
    self.toolbar = NavigationToolbar2Tk(self.canvas, self, pack_toolbar=False)
    self.toolbar.update()
    self.toolbar.pack(side=tk.BOTTOM, fill=tk.X)
    self.canvas.get_tk_widget().pack(side=tk.TOP, fill=tk.BOTH, expand=True)
    self.canvas.mpl_connect('pick_event', self._picked)
    # matplotlib scales the figure's dpi to Tk's scaling when the widget is mapped but does
    # not resize it then, so a scaled display would crop the figure; resize once more.
    self.canvas.get_tk_widget().bind('<Map>', lambda _e: self.after_idle(self._fit), add='+')
    self._new: List = []  # the user's clips' scatter per panel
    self._reference: List = []  # reference scatters per panel
    self._rings: List = []
    self._cursor = None
    self.clear(empty_text)

  def clear(self, text: str = '') -> None:
    """Empties every map, showing ``text`` in the middle."""
    self._drop_cursor()
    self._new, self._reference, self._rings = [], [], []
    for ax in self.axes:
      ax.clear()
      ax.set_xticks([])
      ax.set_yticks([])
      ax.text(0.5, 0.5, text, ha='center', va='center', transform=ax.transAxes,
              color='grey', wrap=True)
    for legend in list(self.figure.legends):
      legend.remove()
    self.canvas.draw_idle()

  def show(self, panels: Sequence[Panel]) -> None:
    """Draws each panel's reference and new points, a shared legend and tooltips."""
    self.clear()
    colours = class_colours([l for p in panels for l in (*p.reference_labels, *p.new_labels)])
    texts = {}
    for ax, panel in zip(self.axes, panels):
      ax.clear()
      ax.set_title(panel.title, fontsize=9)
      ax.set_xticks([])
      ax.set_yticks([])
      ref = ax.scatter(panel.reference_points[:, 0], panel.reference_points[:, 1], s=9,
                       c=[colours[l] for l in panel.reference_labels], alpha=0.55,
                       linewidths=0)
      new = ax.scatter(panel.new_points[:, 0], panel.new_points[:, 1], s=110, marker='*',
                       c=[colours[l] for l in panel.new_labels], edgecolors='black',
                       linewidths=0.8, zorder=3, picker=True, pickradius=6)
      texts[ref], texts[new] = list(panel.reference_text), list(panel.new_text)
      self._reference.append(ref)
      self._new.append(new)
    handles = [Line2D([], [], ls='', marker='o', color=c, label=n) for n, c in colours.items()]
    handles.append(Line2D([], [], ls='', marker='*', markersize=11, markerfacecolor='white',
                          markeredgecolor='black', label=NEW_LABEL))
    self.figure.legend(handles=handles, loc='outside right center', fontsize=8,
                       frameon=False)
    self._cursor = mplcursors.cursor(list(texts), hover=mplcursors.HoverMode.Transient)
    self._cursor.connect(
        'add', lambda sel: sel.annotation.set_text(texts[sel.artist][sel.index]))
    self.canvas.draw_idle()

  def highlight(self, index: Optional[int]) -> None:
    """Rings clip ``index`` in every panel (None removes the rings)."""
    for ring in self._rings:
      ring.remove()
    self._rings = []
    if index is not None:
      for ax, new in zip(self.axes, self._new):
        x, y = new.get_offsets()[index]
        self._rings.append(ax.scatter([x], [y], s=420, facecolors='none',
                                      edgecolors='crimson', linewidths=2, zorder=4))
    self.canvas.draw_idle()

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
    if event.artist not in self._new or not len(event.ind) or self._on_pick is None:
      return
    # Several stars can lie under the pointer: take the one nearest to it.
    xy = event.artist.axes.transData.transform(event.artist.get_offsets()[event.ind])
    mouse = np.array([event.mouseevent.x, event.mouseevent.y])
    self._on_pick(int(event.ind[np.argmin(np.linalg.norm(xy - mouse, axis=1))]))

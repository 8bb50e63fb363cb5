"""The results table (sortable, filterable, linked to the map), the neighbour list and the
list of skipped files."""

import tkinter as tk
from tkinter import ttk
from typing import Callable, Dict, List, Sequence, Tuple

from envsound.gui import columns as cols

COLUMNS = (('file', 'File', 140), ('environment', 'Environment', 120),
           ('confidence', 'Confidence', 90), ('top3', 'Top 3', 260))
FITTED = ('environment', 'confidence', 'top3')  # as wide as their content; File the rest
MIN_FILE = 100  # File's narrowest width (pixels); names longer than it are elided
PENDING = '…'


def fit_columns(tree: ttk.Treeview, keys: Sequence[str]) -> None:
  """Sets each column's width to its widest cell or heading, so nothing is cut."""
  for key in keys:
    tree.column(key, width=cols.content_width(tree, key, [tree.set(i, key) for i in
                                                          tree.get_children()]))


class ResultsTable(ttk.Frame):
  """A Treeview with one row per clip; row ids are the clip indices as strings.

  Environment, Confidence and Top 3 are as wide as their content; File takes the rest of the
  table's width (at least ``MIN_FILE``), names too long for it elided in the middle (the
  full name is each row's text, shown in the window's status bar when the row is selected).

  Args:
    parent: the containing widget.
    on_select: called with the selected clip indices when the user selects rows.
  """

  def __init__(self, parent, on_select: Callable[[List[int]], None]):
    super().__init__(parent)
    self._on_select = on_select
    self._sort: Tuple[str, bool] = ('', False)
    self._set_by_program: List[int] = []  # Tk reports this selection later: not the user's
    self._hidden: List[str] = []  # rows detached by the filter
    self._width = 0  # the table width the columns were fitted to
    self._inset = 0  # the tree's border: pixels left of the first column
    self.tree = ttk.Treeview(self, columns=[c for c, _, _ in COLUMNS], show='headings',
                             selectmode='extended')
    for key, title, width in COLUMNS:
      self.tree.heading(key, text=title, command=lambda k=key: self.sort_by(k))
      self.tree.column(key, width=width, anchor='e' if key == 'confidence' else 'w',
                       stretch=key == 'file', minwidth=MIN_FILE if key == 'file' else 20)
    scroll = ttk.Scrollbar(self, orient='vertical', command=self.tree.yview)
    across = ttk.Scrollbar(self, orient='horizontal', command=self.tree.xview)
    self.tree.configure(yscrollcommand=scroll.set, xscrollcommand=across.set)
    self.tree.grid(row=0, column=0, sticky='nsew')
    scroll.grid(row=0, column=1, sticky='ns')
    across.grid(row=1, column=0, sticky='ew')
    self.rowconfigure(0, weight=1)
    self.columnconfigure(0, weight=1)
    self.tree.bind('<<TreeviewSelect>>', self._selected)
    self.tree.bind('<Configure>', self._resized, add='+')

  def _every(self) -> List[str]:
    return list(self.tree.get_children()) + self._hidden

  def set_clips(self, names: Sequence[str]) -> None:
    """Shows one pending row per clip name."""
    self.tree.delete(*self._every())
    self._hidden = []
    for i, name in enumerate(names):
      self.tree.insert('', 'end', iid=str(i), text=name, values=(name, PENDING, '', ''))
    self.fit()

  def set_results(self, predicted: Sequence[str], confidence: Sequence[float],
                  top3: Sequence[Sequence[Tuple[str, float]]],
                  short: Dict[str, str] = None) -> None:
    """Fills the prediction columns, row i for clip i, and re-applies the sort.

    Args:
      short: display names of classes in Top 3 (default :func:`columns.short_names` of
        the classes in ``top3``).
    """
    short = short or cols.short_names(n for top in top3 for n, _ in top)
    for i, (cls, conf, top) in enumerate(zip(predicted, confidence, top3)):
      self.tree.item(str(i), values=(self.tree.set(str(i), 'file'), cls, f'{conf:.3f}',
                                     cols.format_top3(top, short)))
    self.fit()
    if self._sort[0]:
      self._apply_sort()

  def clear_results(self) -> None:
    for iid in self._every():
      self.tree.item(iid, values=(self.tree.set(iid, 'file'), PENDING, '', ''))
    self.fit()

  def fit(self) -> None:
    """Fits the columns to their content and File to the width left, eliding names."""
    every = self._every()
    for key in FITTED:
      self.tree.column(key, width=cols.content_width(
          self.tree, key, [self.tree.set(i, key) for i in every]))
    self._width = self.tree.winfo_width()
    rest = self._inner_width() - sum(self.tree.column(k, 'width') for k in FITTED)
    width = max(MIN_FILE, rest)
    self.tree.column('file', width=width)
    measure = cols.tree_font(self.tree).measure
    for iid in every:
      self.tree.set(iid, 'file', cols.elide_middle(self.name(iid), width - cols.PAD, measure))

  def _inner_width(self) -> int:
    """The width the columns can fill: the tree's, less its border (the first row's x)."""
    rows = self.tree.get_children()
    box = self.tree.bbox(rows[0]) if rows else ''
    if box:
      self._inset = box[0]
    return self._width - 2 * self._inset

  def _resized(self, event) -> None:
    if event.width != self._width:
      self.fit()

  def name(self, iid: str) -> str:
    """The full file name of row ``iid``."""
    return self.tree.item(iid, 'text')

  def show_only(self, indices: Sequence[int]) -> None:
    """Shows only the rows of clips ``indices`` (the filter), keeping the sort order."""
    keep = {str(i) for i in indices}
    every = sorted(self._every(), key=int)
    self._hidden = [iid for iid in every if iid not in keep]
    for iid in self._hidden:
      self.tree.detach(iid)
    for pos, iid in enumerate(iid for iid in every if iid in keep):
      self.tree.move(iid, '', pos)
    if self._sort[0]:
      self._apply_sort()

  def rows(self) -> List[Dict[str, str]]:
    """The rows on show in display order, as column -> text (File: the full name)."""
    keys = [c for c, _, _ in COLUMNS]
    return [dict(zip(keys, self.tree.item(iid, 'values')), file=self.name(iid))
            for iid in self.tree.get_children()]

  def select(self, indices: Sequence[int]) -> None:
    """Selects and shows the rows of clips ``indices`` without calling ``on_select``."""
    shown = [str(i) for i in indices if str(i) not in self._hidden]
    self._set_by_program = sorted(int(i) for i in shown)
    self.tree.selection_set(shown)
    if shown:
      self.tree.see(shown[0])

  def selected(self) -> List[int]:
    return sorted(int(iid) for iid in self.tree.selection())

  def sort_by(self, key: str) -> None:
    """Sorts by column ``key``; a second click on the same column reverses the order."""
    same = self._sort[0] == key
    self._sort = (key, not self._sort[1] if same else key == 'confidence')
    self._apply_sort()

  def _apply_sort(self) -> None:
    key, descending = self._sort

    def value(iid):
      if key == 'file':
        return self.name(iid).lower()
      text = self.tree.set(iid, key)
      if key == 'confidence':
        return float(text) if text else -1.0
      return text.lower()

    for pos, iid in enumerate(sorted(self.tree.get_children(), key=value, reverse=descending)):
      self.tree.move(iid, '', pos)
    for k, title, _ in COLUMNS:
      mark = (' ▼' if descending else ' ▲') if k == key else ''
      self.tree.heading(k, text=title + mark)

  def _selected(self, _event=None) -> None:
    # <<TreeviewSelect>> arrives after select() returned: drop the echo of its selection.
    if self.selected() == self._set_by_program:
      return
    self._set_by_program = []
    self._on_select(self.selected())


class RowList(ttk.Frame):
  """A read-only list of rows under fixed headings, columns fitted to their content."""

  def __init__(self, parent, columns: Sequence[Tuple[str, str]]):
    super().__init__(parent)
    self._keys = [k for k, _ in columns]
    self.tree = ttk.Treeview(self, columns=self._keys, show='headings', height=6)
    for key, title in columns:
      self.tree.heading(key, text=title)
      self.tree.column(key, width=120, stretch=key == self._keys[-1])
    scroll = ttk.Scrollbar(self, orient='vertical', command=self.tree.yview)
    self.tree.configure(yscrollcommand=scroll.set)
    scroll.pack(side=tk.RIGHT, fill=tk.Y)
    self.tree.pack(fill=tk.BOTH, expand=True)

  def set_rows(self, rows: Sequence[Sequence[str]]) -> None:
    self.clear()
    self.add(rows)

  def add(self, rows: Sequence[Sequence[str]]) -> None:
    for row in rows:
      self.tree.insert('', 'end', values=tuple(str(v) for v in row))
    fit_columns(self.tree, self._keys)

  def clear(self) -> None:
    self.tree.delete(*self.tree.get_children())

  def rows(self) -> List[Tuple[str, ...]]:
    return [tuple(self.tree.item(i, 'values')) for i in self.tree.get_children()]

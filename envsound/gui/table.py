"""The results table (sortable, filterable, linked to the map), the neighbour list and the
list of skipped files."""

import tkinter as tk
from tkinter import font as tkfont, ttk
from typing import Callable, Dict, List, Sequence, Tuple

COLUMNS = (('file', 'File', 140), ('environment', 'Environment', 120),
           ('confidence', 'Confidence', 90), ('top3', 'Top 3', 300))
PENDING = '…'
PAD = 28  # pixels beside a column's widest text (cell padding, sort mark)


def format_top3(top: Sequence[Tuple[str, float]]) -> str:
  return ', '.join(f'{name} {p:.2f}' for name, p in top)


def fit_columns(tree: ttk.Treeview, columns: Sequence[str], minimum: int = 60) -> None:
  """Sets each column's width to its widest cell or heading, so nothing is cut."""
  font = tkfont.nametofont('TkDefaultFont')
  for key in columns:
    texts = [tree.heading(key, 'text') + ' ▼'] + [tree.set(i, key) for i in tree.get_children()]
    tree.column(key, width=max(minimum, max(font.measure(t) for t in texts) + PAD))


class ResultsTable(ttk.Frame):
  """A Treeview with one row per clip; row ids are the clip indices as strings.

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
    self.tree = ttk.Treeview(self, columns=[c for c, _, _ in COLUMNS], show='headings',
                             selectmode='extended')
    for key, title, width in COLUMNS:
      self.tree.heading(key, text=title, command=lambda k=key: self.sort_by(k))
      self.tree.column(key, width=width, anchor='e' if key == 'confidence' else 'w',
                       stretch=False)
    scroll = ttk.Scrollbar(self, orient='vertical', command=self.tree.yview)
    across = ttk.Scrollbar(self, orient='horizontal', command=self.tree.xview)
    self.tree.configure(yscrollcommand=scroll.set, xscrollcommand=across.set)
    self.tree.grid(row=0, column=0, sticky='nsew')
    scroll.grid(row=0, column=1, sticky='ns')
    across.grid(row=1, column=0, sticky='ew')
    self.rowconfigure(0, weight=1)
    self.columnconfigure(0, weight=1)
    self.tree.bind('<<TreeviewSelect>>', self._selected)

  def set_clips(self, names: Sequence[str]) -> None:
    """Shows one pending row per clip name."""
    self.tree.delete(*self.tree.get_children(), *self._hidden)
    self._hidden = []
    for i, name in enumerate(names):
      self.tree.insert('', 'end', iid=str(i), values=(name, PENDING, '', ''))
    fit_columns(self.tree, ('file',))

  def set_results(self, predicted: Sequence[str], confidence: Sequence[float],
                  top3: Sequence[Sequence[Tuple[str, float]]]) -> None:
    """Fills the prediction columns, row i for clip i, and re-applies the sort."""
    for i, (cls, conf, top) in enumerate(zip(predicted, confidence, top3)):
      self.tree.item(str(i), values=(self.tree.set(str(i), 'file'), cls, f'{conf:.3f}',
                                     format_top3(top)))
    fit_columns(self.tree, [c for c, _, _ in COLUMNS])
    if self._sort[0]:
      self._apply_sort()

  def clear_results(self) -> None:
    for iid in self.tree.get_children() + tuple(self._hidden):
      self.tree.item(iid, values=(self.tree.set(iid, 'file'), PENDING, '', ''))

  def show_only(self, indices: Sequence[int]) -> None:
    """Shows only the rows of clips ``indices`` (the filter), keeping the sort order."""
    keep = {str(i) for i in indices}
    every = sorted(self.tree.get_children() + tuple(self._hidden), key=int)
    self._hidden = [iid for iid in every if iid not in keep]
    for iid in self._hidden:
      self.tree.detach(iid)
    for pos, iid in enumerate(iid for iid in every if iid in keep):
      self.tree.move(iid, '', pos)
    if self._sort[0]:
      self._apply_sort()

  def rows(self) -> List[Dict[str, str]]:
    """The rows on show in display order, as column -> text."""
    keys = [c for c, _, _ in COLUMNS]
    return [dict(zip(keys, self.tree.item(iid, 'values'))) for iid in self.tree.get_children()]

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

"""The results table (sortable, linked to the map) and the list of skipped files."""

import tkinter as tk
from tkinter import ttk
from typing import Callable, Dict, List, Optional, Sequence, Tuple

COLUMNS = (('file', 'File', 140), ('environment', 'Environment', 120),
           ('confidence', 'Confidence', 80), ('top3', 'Top 3', 300))
PENDING = '…'


def format_top3(top: Sequence[Tuple[str, float]]) -> str:
  return ', '.join(f'{name} {p:.2f}' for name, p in top)


class ResultsTable(ttk.Frame):
  """A Treeview with one row per clip; row ids are the clip indices as strings.

  Args:
    parent: the containing widget.
    on_select: called with the clip index when the user selects a row.
  """

  def __init__(self, parent, on_select: Callable[[int], None]):
    super().__init__(parent)
    self._on_select = on_select
    self._sort: Tuple[str, bool] = ('', False)
    self._quiet = False  # True while the program (not the user) changes the selection
    self.tree = ttk.Treeview(self, columns=[c for c, _, _ in COLUMNS], show='headings',
                             selectmode='browse')
    for key, title, width in COLUMNS:
      self.tree.heading(key, text=title, command=lambda k=key: self.sort_by(k))
      self.tree.column(key, width=width, anchor='e' if key == 'confidence' else 'w',
                       stretch=key in ('file', 'top3'))
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
    self.tree.delete(*self.tree.get_children())
    for i, name in enumerate(names):
      self.tree.insert('', 'end', iid=str(i), values=(name, PENDING, '', ''))

  def set_results(self, predicted: Sequence[str], confidence: Sequence[float],
                  top3: Sequence[Sequence[Tuple[str, float]]]) -> None:
    """Fills the prediction columns, row i for clip i, and re-applies the sort."""
    for i, (cls, conf, top) in enumerate(zip(predicted, confidence, top3)):
      self.tree.set(str(i), 'environment', cls)
      self.tree.set(str(i), 'confidence', f'{conf:.3f}')
      self.tree.set(str(i), 'top3', format_top3(top))
    if self._sort[0]:
      self._apply_sort()

  def clear_results(self) -> None:
    for iid in self.tree.get_children():
      self.tree.set(iid, 'environment', PENDING)
      self.tree.set(iid, 'confidence', '')
      self.tree.set(iid, 'top3', '')

  def rows(self) -> List[Dict[str, str]]:
    """The rows in display order, as column -> text (tests and CSV use this)."""
    keys = [c for c, _, _ in COLUMNS]
    return [dict(zip(keys, self.tree.item(iid, 'values'))) for iid in self.tree.get_children()]

  def select(self, index: Optional[int]) -> None:
    """Selects and shows clip ``index``'s row without calling ``on_select``."""
    self._quiet = True
    try:
      if index is None:
        self.tree.selection_set(())
      else:
        self.tree.selection_set(str(index))
        self.tree.see(str(index))
    finally:
      self.update_idletasks()
      self._quiet = False

  def selected(self) -> Optional[int]:
    sel = self.tree.selection()
    return int(sel[0]) if sel else None

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
    if not self._quiet:
      index = self.selected()
      if index is not None:
        self._on_select(index)


class SkippedList(ttk.Frame):
  """Files that were not loaded, each with its reason."""

  def __init__(self, parent):
    super().__init__(parent)
    self.tree = ttk.Treeview(self, columns=('file', 'reason'), show='headings')
    self.tree.heading('file', text='File')
    self.tree.heading('reason', text='Why it was skipped')
    self.tree.column('file', width=200, stretch=False)
    self.tree.column('reason', width=500)
    self.tree.pack(fill=tk.BOTH, expand=True)

  def add(self, rejected: Sequence[Tuple[object, str]]) -> None:
    for path, reason in rejected:
      self.tree.insert('', 'end', values=(str(path), reason))

  def clear(self) -> None:
    self.tree.delete(*self.tree.get_children())

  def rows(self) -> List[Tuple[str, str]]:
    return [tuple(self.tree.item(i, 'values')) for i in self.tree.get_children()]

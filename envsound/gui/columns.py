"""How the results table's cells are written and fitted: compact Top 3, names elided in the
middle, and column widths measured in the table's own font."""

import re
from tkinter import font as tkfont, ttk
from typing import Dict, Iterable, Sequence, Tuple

PAD = 14  # pixels beside a column's widest text (the cell's padding and a little air)
ELLIPSIS = '…'
_WORDS = re.compile(r'[_\s-]+')


def short_names(class_names: Iterable[str]) -> Dict[str, str]:
  """Each class name's last word ('urban_traffic' -> 'traffic'), where the last words of
  ``class_names`` are all distinct; else the full names."""
  names = list(dict.fromkeys(class_names))
  last = {n: _WORDS.split(n.strip('_ -'))[-1] or n for n in names}
  if len(set(last.values())) < len(names):
    return {n: n for n in names}
  return last


def format_top3(top: Sequence[Tuple[str, float]], short: Dict[str, str]) -> str:
  """'rail 0.81 · traffic 0.12 · birdsong 0.05' (class names shortened by ``short``)."""
  return ' · '.join(f'{short.get(name, name)} {p:.2f}' for name, p in top)


def _font(tree: ttk.Treeview, style: str, fallback: str) -> tkfont.Font:
  """The font the theme gives ``style`` (a named font or a description), else ``fallback``."""
  name = ttk.Style(tree).lookup(style, 'font') or fallback
  try:
    return tkfont.nametofont(name, root=tree)
  except Exception:  # pylint: disable=broad-except  (a font description, not a name)
    return tkfont.Font(root=tree, font=name)


def tree_font(tree: ttk.Treeview) -> tkfont.Font:
  """The font the Treeview draws its cells in."""
  return _font(tree, 'Treeview', 'TkDefaultFont')


def content_width(tree: ttk.Treeview, key: str, texts: Iterable[str]) -> int:
  """Pixels that show ``key``'s heading (with a sort mark) and every text in ``texts``."""
  heading = _font(tree, 'Heading', 'TkHeadingFont').measure(tree.heading(key, 'text').rstrip(' ▲▼') + ' ▼')
  cells = tree_font(tree)
  return max([heading] + [cells.measure(t) for t in texts]) + PAD


def elide_middle(text: str, width: int, measure) -> str:
  """``text`` cut in the middle with '…' to fit ``width`` pixels (``measure(text)`` gives
  pixels), keeping its start and its end (a file name's extension)."""
  if measure(text) <= width:
    return text
  low, high = 0, len(text)  # the most characters kept that still fit
  while low < high:
    keep = (low + high + 1) // 2
    if measure(_cut(text, keep)) <= width:
      low = keep
    else:
      high = keep - 1
  return _cut(text, low)


def _cut(text: str, keep: int) -> str:
  tail = keep // 2
  return text[:keep - tail] + ELLIPSIS + (text[len(text) - tail:] if tail else '')

"""The main window's widgets: menus with shortcuts, bars, resizable panes, banner, status.

No behaviour lives here: every command calls a method of the subclass (``app.App``).
"""

import tkinter as tk
from tkinter import ttk
from typing import Callable, Optional

from envsound.gui import loader, panels
from envsound.gui.plot import MapView
from envsound.gui.selection import Selectors
from envsound.gui.table import ResultsTable, RowList

NO_COMPARE = '(none)'
SIDE = 0.52  # the table's share of the window's width: File, environment, confidence, Top 3
MUTED = '#666'
# (menu, label, method name, accelerator shown, Tk event sequences)
MENUS = (
    ('File', 'Add files…', 'choose_files', 'Ctrl+O', ('<Control-o>',)),
    ('File', 'Add folder…', 'choose_folder', 'Ctrl+Shift+O', ('<Control-O>',)),
    ('File', 'Clear', 'clear_clips', '', ()),
    ('File', None, None, None, ()),
    ('File', 'Export CSV…', 'choose_csv', 'Ctrl+E', ('<Control-e>',)),
    ('File', 'Export selection…', 'choose_selection_csv', 'Ctrl+Shift+E', ('<Control-E>',)),
    ('File', 'Save plot PNG…', 'choose_png', 'Ctrl+S', ('<Control-s>',)),
    ('File', None, None, None, ()),
    ('File', 'Quit', 'close', 'Ctrl+Q', ('<Control-q>',)),
    ('Model', 'Connect', 'connect', '', ()),
    ('Model', 'Predict', 'predict', 'Ctrl+Enter / F5', ('<Control-Return>', '<Control-KP_Enter>',
                                                        '<F5>')),
    ('Model', 'Cancel', 'cancel', 'Esc', ('<Escape>',)),
    ('Model', None, None, None, ()),
    ('Model', 'Use the model\'s own map', 'use_model_map', '', ()),
    ('Model', 'Choose a reference folder…', 'choose_reference', '', ()),
)


class Window:
  """Builds the widgets on ``self.root``; the subclass supplies the commands."""

  root: tk.Tk

  def build(self) -> None:
    """Creates every widget (call once, after the Tk variables exist)."""
    self._menus()
    top = ttk.Frame(self.root, padding=(10, 8, 10, 0))
    top.pack(fill=tk.X)
    ttk.Label(top, text='Server').pack(side=tk.LEFT)
    entry = ttk.Entry(top, textvariable=self.server_var, width=22)
    entry.pack(side=tk.LEFT, padx=4)
    entry.bind('<Return>', lambda _e: self.connect())
    self.connect_button = ttk.Button(top, text='Connect', command=self.connect)
    self.connect_button.pack(side=tk.LEFT)
    ttk.Label(top, text='Model').pack(side=tk.LEFT, padx=(14, 4))
    self.model_box = ttk.Combobox(top, textvariable=self.model_var, state='readonly', width=28)
    self.model_box.pack(side=tk.LEFT)
    self.model_box.bind('<<ComboboxSelected>>', lambda _e: self.model_selected())
    ttk.Label(top, text='Compare with').pack(side=tk.LEFT, padx=(14, 4))
    self.compare_box = ttk.Combobox(top, textvariable=self.compare_var, state='readonly',
                                    width=28, values=[NO_COMPARE])
    self.compare_box.pack(side=tk.LEFT)

    bar = ttk.Frame(self.root, padding=(10, 8))
    bar.pack(fill=tk.X)
    for text, command in (('Add files…', self.choose_files), ('Add folder…', self.choose_folder),
                          ('Clear', self.clear_clips)):
      ttk.Button(bar, text=text, command=command).pack(side=tk.LEFT, padx=(0, 4))
    self.predict_button = ttk.Button(bar, text='Predict', command=self.predict,
                                     style='Accent.TButton')
    self.predict_button.pack(side=tk.LEFT, padx=(12, 4))
    self.cancel_button = ttk.Button(bar, text='Cancel', command=self.cancel, state=tk.DISABLED)
    self.cancel_button.pack(side=tk.LEFT)
    self.build_listen(bar)
    self.progress = ttk.Progressbar(bar, length=200, maximum=1.0)
    self.progress.pack(side=tk.LEFT, padx=8)
    ttk.Button(bar, text='Export CSV…', command=self.choose_csv).pack(side=tk.RIGHT)
    source = ttk.Frame(self.root, padding=(10, 0, 10, 4))
    source.pack(fill=tk.X)
    ttk.Label(source, text='Map').pack(side=tk.LEFT)
    ttk.Label(source, textvariable=self.reference_var, foreground=MUTED).pack(side=tk.LEFT,
                                                                                padx=6)
    ttk.Button(source, text='Choose reference folder…',
               command=self.choose_reference).pack(side=tk.RIGHT)
    ttk.Button(source, text='Use the model\'s map',
               command=self.use_model_map).pack(side=tk.RIGHT, padx=4)
    ttk.Label(self.root, text='Drop or add ' + loader.RULE + '.', foreground=MUTED,
              padding=(10, 0)).pack(fill=tk.X)
    self._banner()
    ttk.Label(self.root, textvariable=self.status_var, padding=(10, 3)).pack(
        side=tk.BOTTOM, fill=tk.X)
    ttk.Separator(self.root).pack(side=tk.BOTTOM, fill=tk.X)
    self._panes()

  def _menus(self) -> None:
    bar = tk.Menu(self.root)
    menus = {}
    for name, label, method, accelerator, sequences in MENUS:
      if name not in menus:
        menus[name] = tk.Menu(bar, tearoff=False)
        bar.add_cascade(label=name, menu=menus[name])
      if label is None:
        menus[name].add_separator()
        continue
      command = getattr(self, method)
      menus[name].add_command(label=label, command=command, accelerator=accelerator)
      for sequence in sequences:
        self.root.bind_all(sequence, _key(command))
    view = tk.Menu(bar, tearoff=False)
    bar.add_cascade(label='View', menu=view)
    for mode in panels.COLOUR_MODES:
      view.add_radiobutton(label=f'Colour by {mode}', value=mode, variable=self.colour_var,
                           command=self.colour_changed)
    view.add_separator()
    for tool in Selectors.TOOLS:
      view.add_radiobutton(label=f'{tool.title()} tool', value=tool, variable=self.tool_var,
                           command=self.tool_changed)
    self.root.configure(menu=bar)
    self.menus = dict(menus, View=view)

  def _banner(self) -> None:
    self.banner = tk.Frame(self.root, background='#fde2e1', padx=8, pady=4)
    tk.Label(self.banner, textvariable=self.banner_var, background='#fde2e1',
             foreground='#8a1c1c', anchor='w', justify=tk.LEFT, wraplength=1000).pack(
                 side=tk.LEFT, fill=tk.X, expand=True)
    ttk.Button(self.banner, text='Dismiss', command=self.hide_error).pack(side=tk.RIGHT)
    self.retry_button = ttk.Button(self.banner, text='Retry', command=self.retry)
    self.retry_button.pack(side=tk.RIGHT, padx=4)

  def _panes(self) -> None:
    self.panes = ttk.PanedWindow(self.root, orient=tk.HORIZONTAL)
    self.panes.pack(fill=tk.BOTH, expand=True, padx=10, pady=(4, 4))
    self.side = ttk.PanedWindow(self.panes, orient=tk.VERTICAL)
    self.left = ttk.Notebook(self.side)
    results = ttk.Frame(self.left)
    search = ttk.Frame(results, padding=(0, 4))
    search.pack(fill=tk.X)
    ttk.Label(search, text='Filter').pack(side=tk.LEFT)
    self.filter_entry = ttk.Entry(search, textvariable=self.filter_var)
    self.filter_entry.pack(side=tk.LEFT, fill=tk.X, expand=True, padx=4)
    self.filter_var.trace_add('write', lambda *_a: self.filter_changed())
    self.table = ResultsTable(results, on_select=self.rows_selected)
    self.table.pack(fill=tk.BOTH, expand=True)
    self.skipped = RowList(self.left, (('file', 'File'), ('reason', 'Why it was skipped')))
    self.left.add(results, text='Results')
    self.left.add(self.skipped, text='Skipped (0)')
    near = ttk.Frame(self.side)
    ttk.Label(near, textvariable=self.neighbour_var, padding=(0, 4)).pack(fill=tk.X)
    self.neighbour_list = RowList(near, (('name', 'File / clip id'), ('kind', 'Kind'),
                                         ('environment', 'Environment'),
                                         ('distance', 'Distance')))
    self.neighbour_list.pack(fill=tk.BOTH, expand=True)
    self.side.add(self.left, weight=3)
    self.side.add(near, weight=1)
    maps = ttk.Frame(self.panes)
    tools = ttk.Frame(maps, padding=(0, 0, 0, 4))
    tools.pack(fill=tk.X)
    ttk.Label(tools, text='Colour by').pack(side=tk.LEFT)
    colour = ttk.Combobox(tools, textvariable=self.colour_var, state='readonly', width=22,
                          values=list(panels.COLOUR_MODES))
    colour.pack(side=tk.LEFT, padx=(4, 16))
    colour.bind('<<ComboboxSelected>>', lambda _e: self.colour_changed())
    ttk.Label(tools, text='Select with').pack(side=tk.LEFT)
    self.tool_buttons = {}
    for tool in Selectors.TOOLS:
      self.tool_buttons[tool] = ttk.Radiobutton(tools, text=tool.title(), value=tool,
                                                variable=self.tool_var,
                                                command=self.tool_changed)
      self.tool_buttons[tool].pack(side=tk.LEFT, padx=4)
    self.right = ttk.Notebook(maps)
    self.right.pack(fill=tk.BOTH, expand=True)
    self.map_view = MapView(self.right, 1, empty_text='Connecting…',
                            on_pick=lambda *a: self.point_picked(self.map_view, *a),
                            on_select=lambda *a: self.points_selected(self.map_view, *a))
    self.compare_view = MapView(self.right, 2,
                                on_pick=lambda *a: self.point_picked(self.compare_view, *a),
                                on_select=lambda *a: self.points_selected(self.compare_view, *a),
                                empty_text='Pick a model under "Compare with", then Predict.')
    self.right.add(self.map_view, text='Map')
    self.right.add(self.compare_view, text='Compare models')
    self.panes.add(self.side, weight=2)
    self.panes.add(maps, weight=3)
    self.panes.bind('<Map>', self._place_sash)

  def _place_sash(self, _event=None) -> None:
    self.panes.unbind('<Map>')
    self.root.after_idle(lambda: self.panes.sashpos(0, int(self.panes.winfo_width() * SIDE)))

  # Messages.
  def show_error(self, message: str, retry: Optional[Callable[[], None]] = None) -> None:
    """Shows ``message`` in the banner; with ``retry``, its Retry button runs it."""
    self._retry = retry
    self.banner_var.set(message)
    if retry is None:
      self.retry_button.pack_forget()
    elif not self.retry_button.winfo_ismapped():
      self.retry_button.pack(side=tk.RIGHT, padx=4)
    self.banner.pack(fill=tk.X, padx=10, before=self.panes)

  def hide_error(self) -> None:
    self.banner_var.set('')
    self.banner.pack_forget()

  def retry(self) -> None:
    action, self._retry = self._retry, None
    self.hide_error()
    if action is not None:
      action()

  def set_busy(self, busy: bool, text: str = '') -> None:
    self.busy = busy
    self.predict_button.configure(state=tk.DISABLED if busy else tk.NORMAL)
    self.cancel_button.configure(state=tk.NORMAL if busy else tk.DISABLED)
    if text:
      self.status_var.set(text)
    if not busy:
      self.progress.configure(value=0)

  def set_progress(self, fraction: float, text: str = '') -> None:
    self.progress.configure(value=fraction)
    if text:
      self.status_var.set(text)


def _key(command):
  """A key binding that runs ``command`` and stops Tk's default handling of the key."""
  def handler(_event):
    command()
    return 'break'
  return handler

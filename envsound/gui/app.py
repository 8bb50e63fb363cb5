"""The envsound desktop client: Tk widgets and their callbacks.

Everything slow (server calls, UMAP) runs as a background job (``worker.py``); failures
show in a banner with a Retry button, never as a frozen window or a traceback.
"""

import logging
import tkinter as tk
from pathlib import Path
from tkinter import filedialog, ttk
from typing import Callable, List, Optional, Sequence

from envsound.core import approaches
from envsound.core.errors import EnvsoundError
from envsound.gui import actions, loader, projection, reference as refs, settings
from envsound.gui.plot import MapView
from envsound.gui.session import ModelChoice
from envsound.gui.table import ResultsTable, SkippedList
from envsound.gui.worker import Cancelled, Worker

log = logging.getLogger(__name__)
NO_COMPARE = '(none)'


def make_root() -> tk.Tk:
  """A Tk root that accepts dropped files when tkdnd is available, a plain one otherwise."""
  try:
    from tkinterdnd2 import TkinterDnD  # pylint: disable=import-outside-toplevel
    return TkinterDnD.Tk()
  except (ImportError, RuntimeError, tk.TclError) as e:
    log.warning('drag and drop unavailable: %s', e)
    return tk.Tk()


class App(actions.Actions):
  """The main window. ``actions.Actions`` holds what the buttons do.

  Args:
    root: the Tk root (see :func:`make_root`).
    server: host:port to connect to first; default the remembered one.
    model: model to select once connected (name, ``name v3`` or ``name @label``).
    models: model names to look for (TF Serving cannot list its models); added to the
      approaches' names and the ones remembered.
    reference: reference set folder; default remembered, $ENVSOUND_REFERENCE or the demo's.
    client_factory: builds a client from ``host:port`` (default: envsound's gRPC Client).
    connect: connect at start-up.
  """

  def __init__(self, root: tk.Tk, server: Optional[str] = None, model: Optional[str] = None,
               models: Sequence[str] = (), reference: Optional[Path] = None,
               client_factory: Optional[Callable[[str], object]] = None,
               connect: bool = True):
    super().__init__()
    self.root = root
    self.memory = settings.load()
    self.client_factory = client_factory
    self.wanted_model = model or self.memory.get('model')
    extra = list(models) + ([self.wanted_model.split()[0]] if self.wanted_model else [])
    if models:
      self.remember(models=sorted(set(models) | set(self.memory.get('models', []))))
    self.model_names = list(dict.fromkeys(
        [a.model_name for a in approaches.APPROACHES] + self.memory.get('models', []) + extra))
    self.worker = Worker(root)
    root.title('envsound: environments from sound')
    root.geometry('1320x820')
    root.minsize(900, 600)
    self.server_var = tk.StringVar(value=server or self.memory.get('server')
                                   or settings.DEFAULT_SERVER)
    self.model_var = tk.StringVar()
    self.compare_var = tk.StringVar(value=NO_COMPARE)
    self.status_var = tk.StringVar(value='Not connected.')
    self.banner_var = tk.StringVar()
    ref = reference or self.memory.get('reference') or refs.default_folder()
    self.reference_dir = Path(ref) if ref else None
    self.reference_var = tk.StringVar(value=str(self.reference_dir or 'none'))
    self._build()
    self._enable_drop()
    # Compile UMAP's numba code while the user picks clips: the first map is then fast.
    self.worker.submit('warm-up', lambda _job, _progress: projection.warm_up(),
                       on_done=lambda _result: None,
                       on_error=lambda e: log.warning('UMAP warm-up failed: %s', e))
    root.protocol('WM_DELETE_WINDOW', self.close)
    self.load_reference(self.reference_dir)
    if connect:
      self.connect()

  # Layout.
  def _build(self) -> None:
    top = ttk.Frame(self.root, padding=(8, 6, 8, 0))
    top.pack(fill=tk.X)
    ttk.Label(top, text='Server').pack(side=tk.LEFT)
    entry = ttk.Entry(top, textvariable=self.server_var, width=22)
    entry.pack(side=tk.LEFT, padx=4)
    entry.bind('<Return>', lambda _e: self.connect())
    self.connect_button = ttk.Button(top, text='Connect', command=self.connect)
    self.connect_button.pack(side=tk.LEFT)
    ttk.Label(top, text='Model').pack(side=tk.LEFT, padx=(14, 4))
    self.model_box = ttk.Combobox(top, textvariable=self.model_var, state='readonly', width=30)
    self.model_box.pack(side=tk.LEFT)
    self.model_box.bind('<<ComboboxSelected>>', lambda _e: self.model_selected())
    ttk.Label(top, text='Compare with').pack(side=tk.LEFT, padx=(14, 4))
    self.compare_box = ttk.Combobox(top, textvariable=self.compare_var, state='readonly',
                                    width=30, values=[NO_COMPARE])
    self.compare_box.pack(side=tk.LEFT)
    bar = ttk.Frame(self.root, padding=(8, 6))
    bar.pack(fill=tk.X)
    for text, command in (('Add files…', self.choose_files), ('Add folder…', self.choose_folder),
                          ('Clear', self.clear_clips)):
      ttk.Button(bar, text=text, command=command).pack(side=tk.LEFT, padx=(0, 4))
    self.predict_button = ttk.Button(bar, text='Predict', command=self.predict)
    self.predict_button.pack(side=tk.LEFT, padx=(12, 4))
    self.cancel_button = ttk.Button(bar, text='Cancel', command=self.cancel, state=tk.DISABLED)
    self.cancel_button.pack(side=tk.LEFT)
    self.progress = ttk.Progressbar(bar, length=220, maximum=1.0)
    self.progress.pack(side=tk.LEFT, padx=8)
    ttk.Button(bar, text='Save plot PNG…', command=self.choose_png).pack(side=tk.RIGHT)
    ttk.Button(bar, text='Export CSV…', command=self.choose_csv).pack(side=tk.RIGHT, padx=4)
    ref = ttk.Frame(self.root, padding=(8, 0, 8, 4))
    ref.pack(fill=tk.X)
    ttk.Label(ref, text='Reference set').pack(side=tk.LEFT)
    ttk.Button(ref, text='Choose…', command=self.choose_reference).pack(side=tk.LEFT, padx=4)
    ttk.Label(ref, textvariable=self.reference_var, foreground='#555').pack(side=tk.LEFT)
    ttk.Label(self.root, text='Drop or add ' + loader.RULE + '.', foreground='#555',
              padding=(8, 0)).pack(fill=tk.X)

    self.banner = tk.Frame(self.root, background='#fde2e1', padx=8, pady=4)
    tk.Label(self.banner, textvariable=self.banner_var, background='#fde2e1',
             foreground='#8a1c1c', anchor='w', justify=tk.LEFT, wraplength=1000).pack(
                 side=tk.LEFT, fill=tk.X, expand=True)
    ttk.Button(self.banner, text='Dismiss', command=self.hide_error).pack(side=tk.RIGHT)
    self.retry_button = ttk.Button(self.banner, text='Retry', command=self.retry)
    self.retry_button.pack(side=tk.RIGHT, padx=4)

    ttk.Label(self.root, textvariable=self.status_var, relief=tk.SUNKEN, padding=(6, 2)).pack(
        side=tk.BOTTOM, fill=tk.X)
    self.panes = ttk.PanedWindow(self.root, orient=tk.HORIZONTAL)
    self.panes.pack(fill=tk.BOTH, expand=True, padx=8, pady=(4, 4))
    self.left = ttk.Notebook(self.panes)
    self.table = ResultsTable(self.left, on_select=self.row_selected)
    self.skipped = SkippedList(self.left)
    self.left.add(self.table, text='Results')
    self.left.add(self.skipped, text='Skipped (0)')
    self.right = ttk.Notebook(self.panes)
    hint = 'Connect, add clips and press Predict.'
    self.map_view = MapView(self.right, 1, on_pick=self.point_picked, empty_text=hint)
    self.compare_view = MapView(self.right, 2, on_pick=self.point_picked,
                                empty_text='Pick a model under "Compare with", then Predict.')
    self.right.add(self.map_view, text='Map')
    self.right.add(self.compare_view, text='Compare models')
    self.panes.add(self.left, weight=2)
    self.panes.add(self.right, weight=3)
    self.panes.bind('<Map>', self._place_sash)

  def _place_sash(self, _event=None) -> None:
    self.panes.unbind('<Map>')
    self.root.after_idle(lambda: self.panes.sashpos(0, int(self.panes.winfo_width() * 0.42)))

  def _enable_drop(self) -> None:
    if not hasattr(self.root, 'drop_target_register'):
      return
    from tkinterdnd2 import DND_FILES  # pylint: disable=import-outside-toplevel
    self.root.drop_target_register(DND_FILES)
    self.root.dnd_bind('<<Drop>>', self.on_drop)

  def on_drop(self, event) -> None:
    """Loads the files and folders dropped onto the window."""
    self.load_files(self.root.tk.splitlist(event.data))

  # Messages.
  def show_error(self, message: str, retry: Optional[Callable[[], None]] = None) -> None:
    """Shows ``message`` in the banner; with ``retry``, its Retry button runs it."""
    self._retry = retry
    self.banner_var.set(message)
    if retry is None:
      self.retry_button.pack_forget()
    elif not self.retry_button.winfo_ismapped():
      self.retry_button.pack(side=tk.RIGHT, padx=4)
    self.banner.pack(fill=tk.X, padx=8, before=self.panes)

  def hide_error(self) -> None:
    self.banner_var.set('')
    self.banner.pack_forget()

  def retry(self) -> None:
    action, self._retry = self._retry, None
    self.hide_error()
    if action is not None:
      action()

  def job_failed(self, what: str, error: BaseException,
                 retry: Optional[Callable[[], None]]) -> None:
    """Reports a failed background job in the banner (Cancel is not a failure)."""
    self.set_busy(False)
    if isinstance(error, Cancelled):
      self.status_var.set(f'{what} cancelled.')
      return
    if isinstance(error, EnvsoundError):
      text = str(error)
    else:
      log.error('%s failed', what, exc_info=error)
      text = f'unexpected {type(error).__name__}: {error}'
    self.status_var.set(f'{what} failed.')
    self.show_error(f'{what} failed: {text}', retry)

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

  # Choices.
  def set_models(self, names: List[str]) -> None:
    self.model_box.configure(values=names)
    self.compare_box.configure(values=[NO_COMPARE] + names)
    if self.model_var.get() not in names:
      wanted = self.wanted_model if self.wanted_model in names else None
      self.model_var.set(wanted or (names[0] if names else ''))
    if self.compare_var.get() not in names:
      self.compare_var.set(NO_COMPARE)

  def choose_files(self) -> None:
    paths = filedialog.askopenfilenames(
        parent=self.root, title='Add .npy clips', initialdir=self.memory.get('folder'),
        filetypes=[('NumPy arrays', '*.npy'), ('All files', '*')])
    if paths:
      self.remember(folder=str(Path(paths[0]).parent))
      self.load_files(paths)

  def choose_folder(self) -> None:
    folder = filedialog.askdirectory(parent=self.root, title='Add every .npy in a folder',
                                     initialdir=self.memory.get('folder'))
    if folder:
      self.remember(folder=folder)
      self.load_files([folder])

  def choose_reference(self) -> None:
    folder = filedialog.askdirectory(parent=self.root, title='Reference set (manifest.csv)',
                                     initialdir=str(self.reference_dir or ''))
    if folder:
      self.load_reference(Path(folder), remember=True)

  def choose_csv(self) -> None:
    path = filedialog.asksaveasfilename(parent=self.root, defaultextension='.csv',
                                        initialdir=self.memory.get('folder'),
                                        initialfile='envsound_predictions.csv')
    if path:
      self.export_csv(path)

  def choose_png(self) -> None:
    path = filedialog.asksaveasfilename(parent=self.root, defaultextension='.png',
                                        initialdir=self.memory.get('folder'),
                                        initialfile='envsound_map.png')
    if path:
      self.save_png(path)

  def remember(self, **values) -> None:
    self.memory = settings.update(**values)

  def close(self) -> None:
    self.cancel()
    self.worker.close()
    self.root.destroy()


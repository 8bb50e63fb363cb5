"""The envsound desktop client: what the window's commands do.

State and logic live in :class:`~envsound.gui.workspace.Workspace` (no Tk); the widgets in
:class:`~envsound.gui.window.Window`. Everything slow (server calls, UMAP) runs as a
background job (``worker.py``) whose result carries a generation number, so a job that was
cancelled or overtaken cannot overwrite the window; failures show in a banner with Retry.
Every menu command starts here, which keeps the module a little over ~250 lines.
"""

import logging
import time
import tkinter as tk
from pathlib import Path
from typing import Callable, List, Optional, Sequence

from envsound.core import approaches
from envsound.core.errors import EnvsoundError
from envsound.gui import jobs, maps, neighbours as nn, panels, reference as refs, settings
from envsound.gui.audio_files import AudioFiles
from envsound.gui.dialogs import Dialogs
from envsound.gui.listen import Listen
from envsound.gui.window import NO_COMPARE, Window
from envsound.gui.workspace import Workspace

log = logging.getLogger(__name__)
PREDICT_HINT = 'Press Predict to place your clips on the map.'


def make_root() -> tk.Tk:
  """A themed Tk root that accepts dropped files when tkdnd is available."""
  try:
    from tkinterdnd2 import TkinterDnD  # pylint: disable=import-outside-toplevel
    root = TkinterDnD.Tk()
  except (ImportError, RuntimeError, tk.TclError) as e:
    log.warning('drag and drop unavailable: %s', e)
    root = tk.Tk()
  import sv_ttk  # pylint: disable=import-outside-toplevel
  sv_ttk.set_theme('light', root)
  return root


class App(jobs.Jobs, AudioFiles, Listen, Dialogs, Window):
  """The main window.

  Args:
    root: the Tk root (see :func:`make_root`).
    server: host:port to connect to first; default the remembered one.
    model: model to select once connected (name, ``name v3`` or ``name @label``).
    models: model names to look for (TF Serving cannot list its models); added to the
      approaches' names and the ones remembered.
    reference: a reference folder to fit maps on live (default: the remembered choice;
      else each model's own map, with $ENVSOUND_REFERENCE or the demo's export for models
      without one).
    client_factory: builds a client from ``host:port`` (default: envsound's gRPC Client).
    connect: connect at start-up.
  """

  def __init__(self, root: tk.Tk, server: Optional[str] = None, model: Optional[str] = None,
               models: Sequence[str] = (), reference: Optional[Path] = None,
               client_factory: Optional[Callable[[str], object]] = None,
               connect: bool = True):
    self.timings = {'start': time.perf_counter()}
    self.root = root
    self.ws = Workspace()
    self.memory = settings.load()
    self.client_factory = client_factory
    self.wanted_model = model or self.memory.get('model')
    extra = list(models) + ([self.wanted_model.split()[0]] if self.wanted_model else [])
    if models:
      self.remember(models=sorted(set(models) | set(self.memory.get('models', []))))
    self.model_names = list(dict.fromkeys(
        [a.model_name for a in approaches.APPROACHES] + self.memory.get('models', []) + extra))
    jobs.Jobs.__init__(self)
    root.title('envsound: environments from sound')
    root.geometry('1360x860')
    root.minsize(960, 620)
    self.server_var = tk.StringVar(value=server or self.memory.get('server')
                                   or settings.DEFAULT_SERVER)
    self.model_var = tk.StringVar()
    self.compare_var = tk.StringVar(value=NO_COMPARE)
    self.status_var = tk.StringVar(value='Not connected.')
    self.banner_var = tk.StringVar()
    self.reference_var = tk.StringVar()
    self.filter_var = tk.StringVar()
    self.neighbour_var = tk.StringVar(value='Nearest neighbours: click a point on the map.')
    self.colour_var = tk.StringVar(value=panels.TRUE)
    self.tool_var = tk.StringVar(value='click')
    self._retry = None
    self.build()
    self._enable_drop()
    root.protocol('WM_DELETE_WINDOW', self.close)
    chosen = reference or self.memory.get('reference')
    self.reference_dir: Optional[Path] = None
    self.load_reference(Path(chosen) if chosen else refs.default_folder(), bool(chosen))
    root.update_idletasks()
    self.timings['window'] = time.perf_counter()
    if connect:
      self.connect()

  def _enable_drop(self) -> None:
    if not hasattr(self.root, 'drop_target_register'):
      return
    from tkinterdnd2 import DND_FILES  # pylint: disable=import-outside-toplevel
    self.root.drop_target_register(DND_FILES)
    self.root.dnd_bind('<<Drop>>', self.on_drop)

  def on_drop(self, event) -> None:
    """Loads the files and folders dropped onto the window."""
    self.load_files(self.root.tk.splitlist(event.data))

  # Clips and the reference set.
  def load_files(self, paths) -> None:
    """Validates and adds files/folders; bad files go to the Skipped tab; audio files are
    embedded on the server first (audio_files.py)."""
    from envsound.gui import loader  # pylint: disable=import-outside-toplevel
    try:
      result = loader.load_clips(paths, already=len(self.ws.clips))
    except loader.TooManyFilesError as e:
      self.show_error(f'Refused: {e}. Load a smaller selection, or Clear first.')
      return
    self.add_loaded(result)
    if result.audio:
      self.embed_audio_files(result.audio)

  def add_loaded(self, result) -> None:
    """Adds loaded clips to the workspace and rejected files to the Skipped tab."""
    if result.clips:
      self.remember(folder=str(result.clips[0].path.parent.resolve()))
    self.ws.add(result)
    self.skipped.add(result.rejected)
    self._clips_changed()
    note = f'; {len(result.rejected)} skipped (see the Skipped tab)' if result.rejected else ''
    self.status_var.set(f'{len(self.ws.clips)} clip(s) loaded{note}.')

  def clear_clips(self) -> None:
    self.ws.clear()
    self.skipped.clear()
    self._clips_changed()
    self.status_var.set('Cleared.')

  def _clips_changed(self) -> None:
    self.cancel_predict()
    self.left.tab(1, text=f'Skipped ({len(self.ws.rejected)})')
    self.table.set_clips(self.ws.names)
    self.filter_changed()
    self.redraw()

  def load_reference(self, folder: Optional[Path], chosen: bool = False) -> None:
    """Reads a reference set (synchronously: a few hundred ms for 1000 clips).

    A ``chosen`` folder is fitted live for every model; a default one only for models
    without a map of their own.
    """
    self.ws.reference = None
    self.reference_dir = Path(folder) if folder else None
    if folder is not None:
      try:
        self.ws.reference = refs.load_reference(folder, chosen=chosen)
      except EnvsoundError as e:
        self.show_error(f'Reference set not loaded: {e}')
    self._describe_source()
    if chosen and self.ws.reference is not None:
      self.remember(reference=str(folder))
      self.model_selected()

  def use_model_map(self) -> None:
    """Forgets the chosen reference folder: each model's own map is shown again."""
    self.remember(reference='')
    self.load_reference(refs.default_folder())
    self.model_selected()

  def _describe_source(self, fitted: Optional[maps.Map] = None) -> None:
    ref = self.ws.reference
    folder = (f'{ref.root} ({len(ref)} clips, {len(set(ref.environments))} classes)'
              if ref is not None else '')
    if ref is not None and ref.chosen:
      text = f'reference folder {folder}, fitted here with UMAP'
    elif fitted is not None and fitted.source == maps.FROM_MODEL:
      text = f'{fitted.model}\'s own map ({len(fitted)} reference clips from the server)'
    elif fitted is not None and len(fitted):
      text = f'{fitted.model} has no map of its own: {folder}, fitted here with UMAP'
    else:
      text = ('each model\'s own map' + (f'; for models without one, {folder}' if folder else
                                        '; models without one map your clips themselves'))
    self.reference_var.set(text)

  # Drawing and selection.
  def redraw(self) -> None:
    """Draws the workspace's panels (the model's map before Predict, results after)."""
    shown = self.ws.panels()
    if shown:
      self.map_view.show(shown[:1])
    else:
      self.map_view.clear(self._empty_text())
    if len(shown) > 1:
      self.compare_view.show(shown)
    else:
      self.compare_view.clear('Pick a model under "Compare with", then Predict.')
    self._mark()

  def retitle(self) -> None:
    """Renews the maps' titles (figures measured after drawing), keeping marks and zoom."""
    titles = [p.title for p in self.ws.panels()]
    self.map_view.set_titles(titles[:1])
    if len(titles) > 1:
      self.compare_view.set_titles(titles)

  def _empty_text(self) -> str:
    if self.session is None:
      return 'Connect to a server to see the selected model\'s map.'
    if self.ws.maps or self.ws.reference is not None:
      return 'Preparing the map…'
    return ('This model has no map of its own and no reference folder is set:\n'
            'press Predict to map your clips, or choose a reference folder.')

  def _mark(self, picked=None, near=()) -> None:
    for view in (self.map_view, self.compare_view):
      here = picked is not None and picked[0] is view
      view.mark(self.ws.selection if self.ws.outcome else (),
                picked[1:] if here else None, near if here else ())

  def rows_selected(self, indices: List[int]) -> None:
    """Marks the selected rows' clips; one selected row's full path goes to the status bar
    (the table may elide its name)."""
    self.ws.select(indices)
    self._mark()
    if len(indices) == 1:
      self.status_var.set(str(self.ws.clips[indices[0]].path))

  def point_picked(self, view, panel: int, point: nn.Point) -> None:
    """Lists and marks the clicked point's nearest neighbours in embedding space."""
    if point.kind == nn.CLIP:
      self.ws.select([point.index])
      self.table.select([point.index])
    near = self.ws.neighbours(panel, point)
    fitted, _ = self.ws.panel_map(panel)
    name = (self.ws.names[point.index] if point.kind == nn.CLIP else fitted.ids[point.index])
    self.neighbour_var.set(f'Nearest to {name} in {fitted.model}\'s embedding space:')
    self.neighbour_list.set_rows([(n.name, n.point.kind, n.environment, f'{n.distance:.3f}')
                                  for n in near])
    self._mark((view, panel, point), [n.point for n in near])

  def points_selected(self, _view, _panel: int, indices: List[int]) -> None:
    """A box or lasso on the map selects those clips' table rows."""
    self.ws.select(indices)
    self.table.select(self.ws.selection)
    self._mark()
    self.status_var.set(f'{len(self.ws.selection)} clip(s) selected on the map.')

  def filter_changed(self) -> None:
    shown = self.ws.matching(self.filter_var.get())
    self.table.show_only(shown)
    if self.filter_var.get().strip():
      self.status_var.set(f'{len(shown)} of {len(self.ws.clips)} clip(s) match '
                          f'"{self.filter_var.get().strip()}".')

  def colour_changed(self) -> None:
    self.ws.colour_by = self.colour_var.get()
    self.redraw()

  def tool_changed(self) -> None:
    for view in (self.map_view, self.compare_view):
      view.selectors.set_tool(self.tool_var.get())

  # Keep results.
  def export_csv(self, path, selection_only: bool = False) -> None:
    """Writes the predictions CSV (every clip, or the selection)."""
    try:
      rows = self.ws.export(path, selection_only)
    except ValueError as e:
      self.show_error(str(e))
      return
    self.status_var.set(f'{rows} prediction row(s) written to {path}.')

  def save_png(self, path) -> None:
    """Saves the map on show (the comparison when that tab is open)."""
    view = self.compare_view if self.right.select() == str(self.compare_view) else self.map_view
    view.save_png(path)
    self.status_var.set(f'Map saved to {path}.')

  def remember(self, **values) -> None:
    self.memory = settings.update(**values)

  def close(self) -> None:
    self.cancel()
    self.stop_listening()
    self.worker.close()
    self.root.destroy()

"""What the window's buttons do: connect, load, predict, compare, export.

A mixin for :class:`envsound.gui.app.App`, which supplies the widgets. Results of
background jobs carry a generation number: a job that was cancelled or overtaken by a newer
one cannot overwrite the window.
"""

import csv
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

from envsound.core.atomic import atomic_file
from envsound.core.errors import EnvsoundError
from envsound.gui import loader, reference as refs, session as sess
from envsound.gui.plot import Panel
from envsound.gui.worker import Job
from envsound.serving.client_errors import ServerUnavailableError


def model_choices(models) -> Dict[str, sess.ModelChoice]:
  """Display name -> choice: each model (latest version), its loaded versions and labels."""
  out = {}
  for info in sorted(models, key=lambda m: m.name):
    versions = sorted(info.versions, key=lambda v: int(v.version))
    out[info.name] = sess.ModelChoice(info.name)
    for v in versions:
      out[f'{info.name} v{v.version}'] = sess.ModelChoice(info.name, version=int(v.version))
    for label in sorted({l for v in versions for l in (v.labels or ())}):
      out[f'{info.name} @{label}'] = sess.ModelChoice(info.name, label=label)
  return out


def _scaled(progress, lo: float, hi: float):
  return lambda f, text='': progress(lo + (hi - lo) * f, text)


class Actions:
  """Callbacks of the main window (state lives here, widgets in App)."""

  def __init__(self):
    self.session: Optional[sess.Session] = None
    self.choices: Dict[str, sess.ModelChoice] = {}
    self.clips: List[loader.LoadedClip] = []
    self.reference: Optional[refs.ReferenceSet] = None
    self.outcome: List[tuple] = []  # (Results, Map, new points) per model shown
    self.job: Optional[Job] = None
    self.prepare_job: Optional[Job] = None
    self.busy = False
    self.timings: Dict[str, float] = {}
    self._retry = None
    self._generation = 0  # of Predict jobs
    self._connects = 0  # of Connect jobs

  def _current(self, generation: int, fn, counter: str = '_generation'):
    """Wraps a job callback so that it runs only if no newer job replaced this one."""
    return lambda *a: fn(*a) if generation == getattr(self, counter) else None

  # Server and models.
  def connect(self, then: Optional[Callable[[], None]] = None) -> None:
    """Connects to the server in the entry and lists its models (in the background).

    Args:
      then: run once connected (Retry after a lost server reconnects, then predicts).
    """
    server = self.server_var.get().strip()
    self._connects += 1
    self.cancel_jobs()
    self.hide_error()
    self.status_var.set(f'Connecting to {server}…')
    factory = self.client_factory or (lambda s: _default_client(s, self.model_names))

    def work(_job, _progress):
      client = factory(server)
      try:
        return client, client.list_models()
      except BaseException:
        sess.close(client)
        raise

    gen = self._connects
    self.worker.submit(
        'connect', work,
        on_done=self._current(gen, lambda r: self._connected(server, *r, then), '_connects'),
        on_error=self._current(gen, lambda e: self.job_failed(
            f'Connecting to {server}', e, lambda: self.connect(then)), '_connects'))

  def _connected(self, server: str, client, models, then) -> None:
    if self.session is not None and self.session.server == server:
      self.session.replace_client(client)  # same server: keep its fitted maps
    else:
      if self.session is not None:
        sess.close(self.session.client)
      self.session = sess.Session(client, server)
    self.choices = model_choices(models)
    self.set_models(list(self.choices))
    self.remember(server=server)
    if not self.choices:
      names = ', '.join(self.model_names)
      self.show_error(f'{server} serves none of the models looked for ({names}); '
                      'name yours with --models.', self.connect)
      return
    self.status_var.set(f'Connected to {server}: {len(models)} model(s).')
    if then is not None:
      then()
    else:
      self.model_selected()

  def selected(self) -> Optional[sess.ModelChoice]:
    return self.choices.get(self.model_var.get())

  def compared(self) -> Optional[sess.ModelChoice]:
    choice = self.choices.get(self.compare_var.get())
    return None if choice == self.selected() else choice

  def model_selected(self) -> None:
    """Remembers the model and fits its reference map in the background, ready for Predict."""
    choice = self.selected()
    if choice is None:
      return
    self.remember(model=self.model_var.get())
    if self.session is None or self.reference is None:
      return
    if self.prepare_job is not None:
      self.prepare_job.cancel()
    session, reference = self.session, self.reference
    self.prepare_job = self.worker.submit(
        'prepare', lambda job, progress: session.map_for(choice, reference, None, job,
                                                         progress),
        on_done=lambda _m: None if self.busy else self.status_var.set(
            f'{choice}: map of {len(reference)} reference clips ready.'),
        on_error=lambda e: None if self.busy else self.job_failed(
            f'Preparing the map for {choice}', e, self.model_selected),
        on_progress=lambda f, text: None if self.busy else self.status_var.set(text))

  # Clips and reference set.
  def load_files(self, paths) -> None:
    """Validates and adds files/folders; bad files go to the Skipped tab."""
    try:
      result = loader.load_clips(paths, already=len(self.clips))
    except loader.TooManyFilesError as e:
      self.show_error(f'Refused: {e}. Load a smaller selection, or Clear first.')
      return
    if result.clips:
      self.remember(folder=str(result.clips[0].path.parent.resolve()))
    known = {c.path.resolve() for c in self.clips}
    self.clips += [c for c in result.clips if c.path.resolve() not in known]
    self.skipped.add(result.rejected)
    self._reset_results()
    self.left.tab(self.skipped, text=f'Skipped ({len(self.skipped.rows())})')
    note = f'; {len(result.rejected)} skipped (see the Skipped tab)' if result.rejected else ''
    self.status_var.set(f'{len(self.clips)} clip(s) loaded{note}.')

  def clear_clips(self) -> None:
    self.clips = []
    self.skipped.clear()
    self.left.tab(self.skipped, text='Skipped (0)')
    self._reset_results()
    self.status_var.set('Cleared.')

  def _reset_results(self) -> None:
    self._generation += 1
    self.cancel_jobs(keep_prepare=True)
    self.outcome = []
    self.table.set_clips([c.name for c in self.clips])
    self.map_view.clear('Press Predict to place these clips on the map.')
    self.compare_view.clear('Pick a model under "Compare with", then Predict.')

  def load_reference(self, folder: Optional[Path], remember: bool = False) -> None:
    """Reads the reference set (synchronously: a few hundred ms for 1000 clips)."""
    self.reference = None
    self.reference_var.set('none (the map shows only your clips)')
    if folder is None:
      return
    try:
      self.reference = refs.load_reference(folder)
    except EnvsoundError as e:
      self.show_error(f'Reference set not loaded: {e}')
      return
    classes = len(set(self.reference.environments))
    self.reference_var.set(f'{folder} ({len(self.reference)} clips, {classes} classes)')
    self.reference_dir = Path(folder)
    if remember:
      self.remember(reference=str(folder))
      self.model_selected()

  # Predict.
  def predict(self) -> None:
    """Predicts every loaded clip with the chosen model(s) and draws the map(s)."""
    if self.busy:
      return
    choice, other = self.selected(), self.compared()
    if self.session is None or choice is None:
      self.show_error('Not connected to a server with a model.', self.connect)
      return
    if not self.clips:
      self.status_var.set('Add clips first (files, a folder, or drop them here).')
      return
    self.hide_error()
    self._generation += 1
    gen, started = self._generation, time.perf_counter()
    session, reference = self.session, self.reference
    clips = [c.frames for c in self.clips]
    models = [choice] + ([other] if other else [])
    self.table.clear_results()
    self.set_busy(True, f'Predicting {len(clips)} clip(s) with {choice}…')

    def work(job, progress):
      out, timings = [], {}
      for k, model in enumerate(models):
        lo, hi = k / len(models), (k + 1) / len(models)
        t = time.perf_counter()
        results = session.predict(model, clips, job, _scaled(progress, lo, lo + (hi - lo) / 2))
        timings[f'predict{k}'] = time.perf_counter() - t
        t = time.perf_counter()
        fitted = session.map_for(model, reference, results, job,
                                 _scaled(progress, lo + (hi - lo) / 2, hi))
        points = (fitted.projection.points if fitted.reference is None
                  else fitted.projection.transform(results.embedding))
        timings[f'map{k}'] = time.perf_counter() - t
        out.append((results, fitted, points))
      return out, timings

    self.job = self.worker.submit(
        'predict', work, on_done=self._current(gen, lambda r: self._show(r, started)),
        on_error=self._current(gen, lambda e: self.job_failed(
            'Predicting', e, lambda: self.connect(then=self.predict)
            if isinstance(e, ServerUnavailableError) else self.predict())),
        on_progress=self._current(gen, self.set_progress))

  def cancel(self) -> None:
    if self.busy:
      self._generation += 1
      self.cancel_jobs(keep_prepare=True)
      self.set_busy(False, 'Cancelled.')

  def cancel_jobs(self, keep_prepare: bool = False) -> None:
    for job in (self.job, None if keep_prepare else self.prepare_job):
      if job is not None:
        job.cancel()
    if self.busy:
      self.set_busy(False)

  def _show(self, result, started: float) -> None:
    self.outcome, self.timings = result
    t = time.perf_counter()
    first = self.outcome[0][0]
    self.table.set_results(first.top_class, first.top_score, first.top_k(3))
    panels = [self._panel(*o) for o in self.outcome]
    self.map_view.show(panels[:1])
    if len(panels) > 1:
      self.compare_view.show(panels)
    else:
      self.compare_view.clear('Pick a model under "Compare with", then Predict.')
    self.map_view.canvas.draw()
    self.timings['draw'] = time.perf_counter() - t
    self.timings['total'] = time.perf_counter() - started
    self.set_busy(False, f'Predicted {len(first)} clip(s) with {first.model} '
                         f'(version {first.model_version}) in {self.timings["total"]:.2f} s.')

  def _panel(self, results: sess.Results, fitted: sess.Map, points) -> Panel:
    names = [c.name for c in self.clips]
    tops = results.top_k(3)
    text = [f'{n}\npredicted: {c}\n' + '\n'.join(f'  {k}: {p:.2f}' for k, p in top)
            for n, c, top in zip(names, results.top_class, tops)]
    ref = fitted.reference
    ref_points = fitted.projection.points if ref is not None else points[:0]
    ref_labels = list(fitted.projection.labels) if ref is not None else []
    ref_files = self.reference.files if ref is not None and self.reference else []
    return Panel(f'{results.model} (version {results.model_version})\n{fitted.separation}',
                 ref_points, ref_labels,
                 [f'reference: {l}\n{f}' for l, f in zip(ref_labels, ref_files)],
                 points, results.top_class, text)

  # Selection.
  def row_selected(self, index: int) -> None:
    for view in (self.map_view, self.compare_view):
      if view.counts():
        view.highlight(index)

  def point_picked(self, index: int) -> None:
    self.table.select(index)
    self.row_selected(index)

  # Keep results.
  def export_csv(self, path) -> None:
    """Writes one row per clip and model: file, model, version, prediction, top 3."""
    if not self.outcome:
      self.show_error('Nothing to export yet: press Predict first.')
      return
    header = ['file', 'path', 'model', 'model_version', 'environment', 'confidence']
    header += [f'top{i}{s}' for i in (1, 2, 3) for s in ('', '_probability')]
    with atomic_file(path, 'w') as f:
      out = csv.writer(f)
      out.writerow(header)
      for results, _, _ in self.outcome:
        for clip, cls, score, top in zip(self.clips, results.top_class, results.top_score,
                                         results.top_k(3)):
          out.writerow([clip.name, str(clip.path), str(results.model), results.model_version,
                        cls, f'{score:.6f}'] + [x for n, p in top for x in (n, f'{p:.6f}')])
    self.status_var.set(f'Predictions written to {path}.')

  def save_png(self, path) -> None:
    """Saves the map on show (the comparison when that tab is open)."""
    view = self.compare_view if self.right.select() == str(self.compare_view) else self.map_view
    view.save_png(path)
    self.status_var.set(f'Map saved to {path}.')


def _default_client(server: str, model_names):
  from envsound.serving.client import Client  # pylint: disable=import-outside-toplevel
  return Client(server, timeout_s=10.0, max_retries=3, model_names=model_names)

"""The window's background jobs: connect, prepare the selected model's map, predict.

A mixin of ``app.App``. Each job's callbacks run only if no newer job of its kind replaced
it (generation numbers), so a slow answer cannot overwrite a newer one.
"""

import logging
import time
from typing import Callable, Optional

from envsound.core.errors import EnvsoundError
from envsound.gui import columns, figures, results as res, session as sess
from envsound.gui.worker import Cancelled, Job, Worker
from envsound.gui.window import NO_COMPARE
from envsound.serving.client_errors import ServerUnavailableError

log = logging.getLogger(__name__)


def _scaled(progress, lo: float, hi: float):
  return lambda f, text='': progress(lo + (hi - lo) * f, text)


class Jobs:
  """Connect, map and predict in the background; results land in the Workspace."""

  def __init__(self):
    self.session: Optional[sess.Session] = None
    self.worker = Worker(self.root)
    self.job: Optional[Job] = None
    self.prepare_job: Optional[Job] = None
    self.busy = False
    self._generation = {'connect': 0, 'prepare': 0, 'predict': 0, 'measure': 0}

  def _submit(self, kind: str, work, on_done, on_error, on_progress=None) -> Job:
    self._generation[kind] += 1
    gen = self._generation[kind]

    def current(fn):
      return lambda *a: fn(*a) if gen == self._generation[kind] else None

    return self.worker.submit(kind, work, on_done=current(on_done), on_error=current(on_error),
                              on_progress=current(on_progress) if on_progress else None)

  # Server and models.
  def connect(self, then: Optional[Callable[[], None]] = None) -> None:
    """Connects to the server in the entry and lists its models (in the background).

    Args:
      then: run once connected (Retry after a lost server reconnects, then predicts).
    """
    server = self.server_var.get().strip()
    self.cancel_predict()
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

    self._submit('connect', work, lambda r: self._connected(server, *r, then),
                 lambda e: self.job_failed(f'Connecting to {server}', e,
                                           lambda: self.connect(then)))

  def _connected(self, server: str, client, models, then) -> None:
    if self.session is not None and self.session.server == server:
      self.session.replace_client(client)  # same server: keep its maps
    else:
      if self.session is not None:
        sess.close(self.session.client)
      self.session = sess.Session(client, server)
    self.ws.choices = res.model_choices(models)
    self.set_models(list(self.ws.choices))
    self.remember(server=server)
    if not self.ws.choices:
      names = ', '.join(self.model_names)
      self.show_error(f'{server} serves none of the models looked for ({names}); '
                      'name yours with --models.', self.connect)
      return
    self.status_var.set(f'Connected to {server}: {len(models)} model(s).')
    self.timings['connected'] = time.perf_counter()
    self.model_selected()
    if then is not None:
      then()

  def set_models(self, names) -> None:
    self.model_box.configure(values=names)
    self.compare_box.configure(values=[NO_COMPARE] + names)
    if self.model_var.get() not in names:
      wanted = self.wanted_model if self.wanted_model in names else None
      self.model_var.set(wanted or (names[0] if names else ''))
    if self.compare_var.get() not in names:
      self.compare_var.set(NO_COMPARE)

  def selected(self) -> Optional[res.ModelChoice]:
    return self.ws.choices.get(self.model_var.get())

  def compared(self) -> Optional[res.ModelChoice]:
    choice = self.ws.choices.get(self.compare_var.get())
    return None if choice == self.selected() else choice

  def model_selected(self) -> None:
    """Remembers the model and draws its map as soon as it is ready (in the background)."""
    choice = self.selected()
    if choice is None or self.session is None:
      return
    self.remember(model=self.model_var.get())
    if not self.busy:
      self.ws.maps, self.ws.outcome = [], []
      self.redraw()
    session, reference = self.session, self.ws.reference
    self.prepare_job = self._submit(
        'prepare', lambda job, progress: session.map_for(choice, reference, None, job, progress),
        lambda m: self._map_ready(choice, m),
        lambda e: None if self.busy else self.job_failed(
            f'Preparing the map of {choice}', e, self.model_selected),
        lambda f, text: None if self.busy else self.status_var.set(text))

  def _map_ready(self, choice, fitted) -> None:
    if self.busy or self.ws.outcome or choice != self.selected():
      return
    self.ws.maps = [fitted] if fitted is not None else []
    self._describe_source(fitted)
    self.redraw()
    self.map_view.draw_now()
    self.timings['map_drawn'] = time.perf_counter()
    if fitted is not None:
      self.status_var.set(f'{choice}: map of {len(fitted)} reference clips ready.')
    self.measure_maps()

  # Predict.
  def predict(self) -> None:
    """Predicts every loaded clip with the chosen model(s) and draws the map(s)."""
    if self.busy:
      return
    choice, other = self.selected(), self.compared()
    if self.session is None or choice is None:
      self.show_error('Not connected to a server with a model.', self.connect)
      return
    if not self.ws.clips:
      self.status_var.set('Add clips first (files, a folder, or drop them here).')
      return
    self.hide_error()
    started = time.perf_counter()
    session, reference = self.session, self.ws.reference
    clips = [c.frames for c in self.ws.clips]
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
        out.append((results, fitted, fitted.place(results)))
        timings[f'map{k}'] = time.perf_counter() - t
      return out, timings

    self.job = self._submit(
        'predict', work, lambda r: self._show(r, started),
        lambda e: self.job_failed('Predicting', e, lambda: self.connect(then=self.predict)
                                  if isinstance(e, ServerUnavailableError) else self.predict()),
        self.set_progress)

  def cancel(self) -> None:
    if self.busy:
      self.cancel_predict()
      self.set_busy(False, 'Cancelled.')

  def cancel_predict(self) -> None:
    """Cancels a running Predict and makes sure its answer is dropped."""
    self._generation['predict'] += 1
    if self.job is not None:
      self.job.cancel()
    if self.busy:
      self.set_busy(False)

  def _show(self, result, started: float) -> None:
    outcome, timings = result
    self.timings.update(timings)
    t = time.perf_counter()
    self.ws.outcome, self.ws.maps = outcome, [m for _, m, _ in outcome]
    self.ws.selection = []
    first = self.ws.predicted
    self.table.set_results(first.top_class, first.top_score, first.top_k(3),
                           columns.short_names(first.class_names))
    self.filter_changed()
    self._describe_source(outcome[0][1])
    self.redraw()
    self.map_view.draw_now()
    self.timings['draw'] = time.perf_counter() - t
    self.timings['total'] = time.perf_counter() - started
    far = max(self.map_view.off_view, default=0)
    self.set_busy(False, f'Predicted {len(first)} clip(s) with {first.model} '
                         f'(version {first.model_version}) in {self.timings["total"]:.2f} s'
                         + (f'; {far} placed far off the map, outside the view.' if far else '.'))
    self.measure_maps()

  def measure_maps(self) -> None:
    """Computes the separation figures of the maps on show that lack them (in the
    background, after the maps are drawn), then puts them in the maps' titles."""
    todo = [m for m in self.ws.maps if m.separation is None and figures.measurable(m)]
    if not todo:
      return

    def measured(found) -> None:
      for fitted, figs in zip(todo, found):
        fitted.separation = figs
      self.retitle()
      self.timings['measured'] = time.perf_counter()

    self._submit('measure', lambda _job, _progress: [figures.of_map(m) for m in todo],
                 measured, lambda e: log.warning('separation figures failed: %s', e))

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


def _default_client(server: str, model_names):
  from envsound.serving.client import Client  # pylint: disable=import-outside-toplevel
  return Client(server, timeout_s=10.0, max_retries=3, model_names=model_names)

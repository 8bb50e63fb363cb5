"""Background jobs for the Tk window: work runs in a thread, results come back via ``after``.

Tk is not thread-safe, so a job never touches widgets: it posts progress and its outcome
to a queue that the Tk thread drains every few milliseconds.
"""

import queue
import threading
from typing import Any, Callable, Optional

POLL_MS = 30


class Cancelled(Exception):
  """Raised inside a job when the user pressed Cancel."""


class Job:
  """A handle on one background job: cancel it, ask whether it is still running."""

  def __init__(self, name: str):
    self.name = name
    self._cancel = threading.Event()
    self.done = threading.Event()

  def cancel(self) -> None:
    self._cancel.set()

  @property
  def cancelled(self) -> bool:
    return self._cancel.is_set()

  def check(self) -> None:
    """Raises Cancelled once the job was cancelled; call between steps of the work."""
    if self._cancel.is_set():
      raise Cancelled(self.name)


class Worker:
  """Runs callables in daemon threads and delivers their outcomes on the Tk thread.

  Args:
    widget: any Tk widget; its ``after`` schedules the queue polling.
  """

  def __init__(self, widget):
    self._widget = widget
    self._queue: 'queue.Queue[tuple]' = queue.Queue()
    self._closed = False
    self._after = self._widget.after(POLL_MS, self._poll)

  def submit(self, name: str, fn: Callable[..., Any], *,
             on_done: Callable[[Any], None],
             on_error: Callable[[BaseException], None],
             on_progress: Optional[Callable[[float, str], None]] = None) -> Job:
    """Starts ``fn(job, progress)`` in a thread.

    ``progress(fraction, text)`` may be called from the thread; ``on_progress``,
    ``on_done(result)`` and ``on_error(exception)`` then run on the Tk thread. A cancelled
    job's outcome is dropped unless it is the Cancelled exception itself.
    """
    job = Job(name)

    def progress(fraction: float, text: str = '') -> None:
      if on_progress is not None and not job.cancelled:
        self._queue.put((on_progress, (fraction, text)))

    def run() -> None:
      try:
        result = fn(job, progress)
      except BaseException as e:  # pylint: disable=broad-except  (reported on the Tk side)
        self._queue.put((on_error, (e,)))
      else:
        if job.cancelled:
          self._queue.put((on_error, (Cancelled(name),)))
        else:
          self._queue.put((on_done, (result,)))
      finally:
        job.done.set()

    threading.Thread(target=run, name=f'envsound-gui-{name}', daemon=True).start()
    return job

  def close(self) -> None:
    """Stops delivering outcomes (call before destroying the widget)."""
    self._closed = True
    self._widget.after_cancel(self._after)

  def _poll(self) -> None:
    if self._closed:
      return
    try:
      while True:
        try:
          callback, args = self._queue.get_nowait()
        except queue.Empty:
          break
        callback(*args)
    finally:  # a failing callback must not stop the polling
      if not self._closed:
        self._after = self._widget.after(POLL_MS, self._poll)

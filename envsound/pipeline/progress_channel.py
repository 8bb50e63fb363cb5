"""Follows the progress events that other processes (Beam's worker processes) append to files.

:class:`Channel` makes a folder, names it and this process in ``progress.CHANNEL_ENV`` (which
worker processes inherit), and while it is open a thread reads the complete lines that have
appeared in the folder's ``*.events`` files every ``interval_s`` and hands each event to a
callback. On close it reads what is left (the thread stops within ``timeout_s``) and removes
the folder.
"""

import json
import os
import pathlib
import shutil
import threading
from typing import Callable, Dict

from envsound.components import progress


class Channel:
  """The events of other processes, handed to ``callback`` in this process."""

  def __init__(self, folder: pathlib.Path, callback: Callable[[progress.Event], None], *,
               interval_s: float = 0.5, timeout_s: float = 5.0):
    self.folder = pathlib.Path(folder)
    self._callback = callback
    self._interval, self._timeout = interval_s, timeout_s
    self._offsets: Dict[str, int] = {}
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._follow, name='progress-channel', daemon=True)
    self._saved_env = None

  def __enter__(self) -> 'Channel':
    self.folder.mkdir(parents=True, exist_ok=True)
    self._saved_env = os.environ.get(progress.CHANNEL_ENV)
    os.environ[progress.CHANNEL_ENV] = f'{self.folder}:{os.getpid()}'
    self._thread.start()
    return self

  def __exit__(self, *exc) -> None:
    self._stop.set()
    self._thread.join(self._timeout)
    if self._saved_env is None:
      os.environ.pop(progress.CHANNEL_ENV, None)
    else:
      os.environ[progress.CHANNEL_ENV] = self._saved_env
    if not self._thread.is_alive():
      self.poll()
    shutil.rmtree(self.folder, ignore_errors=True)

  def _follow(self) -> None:
    while not self._stop.wait(self._interval):
      self.poll()

  def poll(self) -> None:
    """Hands the events that have appeared since the last poll to the callback."""
    for path in sorted(self.folder.glob(f'*{progress.EVENTS_SUFFIX}')):
      with open(path, 'rb') as f:
        f.seek(self._offsets.get(path.name, 0))
        data = f.read()
      complete = data[:data.rfind(b'\n') + 1]  # a line still being written waits
      self._offsets[path.name] = self._offsets.get(path.name, 0) + len(complete)
      for line in complete.splitlines():
        self._callback(progress.Event(**json.loads(line)))

"""Peak memory of a process tree, sampled in a thread (psutil)."""

import threading
import time
from typing import List, Tuple


class TreeMemory:
  """Samples the summed RSS of a process and all its descendants (epoch time, bytes)."""

  def __init__(self, pid: int, interval_s: float = 0.2):
    import psutil  # pylint: disable=import-outside-toplevel
    self._root = psutil.Process(pid)
    self._psutil = psutil
    self._interval = interval_s
    self.samples: List[Tuple[float, int]] = []
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._sample, daemon=True)
    self._thread.start()

  def _sample(self) -> None:
    while not self._stop.wait(self._interval):
      try:
        procs = [self._root, *self._root.children(recursive=True)]
      except self._psutil.Error:  # the run ended
        return
      self.samples.append((time.time(), sum(self._rss(p) for p in procs)))

  def _rss(self, proc) -> int:
    try:
      return proc.memory_info().rss
    except self._psutil.Error:  # exited since listed
      return 0

  def stop(self) -> None:
    self._stop.set()
    self._thread.join()

  def peak_mib(self, start: float = 0.0, end: float = float('inf')) -> float:
    """Largest sample between ``start`` and ``end`` (epoch seconds), in MiB."""
    return max((b for t, b in self.samples if start <= t <= end), default=0) / 2**20

"""A connection to one server and the maps of its models, cached. No Tk here.

Everything here may block (network, UMAP) and runs in the window's background thread; a
:class:`~envsound.gui.worker.Job` lets the user cancel between batches.
"""

import threading
from typing import Dict, Optional, Tuple

from envsound.gui import maps
from envsound.gui.reference import ReferenceSet
from envsound.gui.results import ModelChoice, Progress, Results, predict


def close(client) -> None:
  if client is not None and hasattr(client, 'close'):
    client.close()


class Session:
  """A connection to one server, with maps cached per model and reference set.

  Args:
    client: an ``envsound.serving.client.Client`` (or anything with its methods).
    server: the ``host:port`` it talks to.
  """

  def __init__(self, client, server: str = ''):
    self.client = client
    self.server = server
    self._maps: Dict[tuple, maps.Map] = {}
    self._no_model_map: Dict[ModelChoice, str] = {}  # why a model has no map of its own
    self._locks: Dict[tuple, threading.Lock] = {}
    self._lock = threading.Lock()

  def replace_client(self, client) -> None:
    """Swaps in a fresh connection to the same server, keeping the maps."""
    old, self.client = self.client, client
    close(old)

  def predict(self, model: ModelChoice, clips, job=None, progress=None) -> Results:
    return predict(self.client, model, clips, job, progress)

  def why_no_model_map(self, model: ModelChoice) -> Optional[str]:
    return self._no_model_map.get(model)

  def map_for(self, model: ModelChoice, reference: Optional[ReferenceSet],
              new: Optional[Results] = None, job=None,
              progress: Optional[Progress] = None) -> Optional[maps.Map]:
    """Returns the map to draw ``model``'s clips on, or None when there is none yet.

    A reference set the user chose is fitted live. Otherwise the model's own map is used;
    a model without one falls back to ``reference`` (a default folder) fitted live, and
    with no reference at all to a map fitted on ``new`` itself. Maps are cached per model
    and reference set and renewed when ``new`` came from a different model version.
    """
    if reference is None or not reference.chosen:
      if model not in self._no_model_map:
        try:
          return self._cached((model, 'model'), new, lambda: maps.from_model(self.client, model))
        except maps.NoModelMap as e:
          self._no_model_map[model] = str(e)
      if reference is None:
        return None if new is None else maps.fit_on_clips(new)
    return self._cached((model, reference.key), new,
                        lambda: maps.fit_live(self.client, model, reference, job, progress))

  def _cached(self, key: Tuple, new: Optional[Results], make) -> maps.Map:
    with self._lock:
      lock = self._locks.setdefault(key, threading.Lock())
    with lock:  # one fetch or fit per key, even if a Predict overtakes the pre-fetch
      cached = self._maps.get(key)
      if cached is not None and (new is None or cached.version is None
                                 or cached.version == new.model_version):
        return cached
      result = make()
      self._maps[key] = result
      return result


"""What the window asks of a server, without Tk: models, batched predictions, maps.

Everything here may block (network, UMAP) and runs in the window's background thread; a
:class:`~envsound.gui.worker.Job` lets the user cancel between batches.
"""

import dataclasses
import threading
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from envsound.gui import projection as proj
from envsound.gui.reference import ReferenceSet

BATCH_SIZE = 100  # clips per Predict request: progress and Cancel act between batches
Progress = Callable[[float, str], None]


@dataclasses.dataclass(frozen=True)
class ModelChoice:
  """A served model and, optionally, a pinned version or version label."""
  name: str
  version: Optional[int] = None
  label: Optional[str] = None

  def __str__(self) -> str:
    if self.version is not None:
      return f'{self.name} v{self.version}'
    if self.label:
      return f'{self.name} @{self.label}'
    return self.name


@dataclasses.dataclass
class Results:
  """One model's predictions for a list of clips."""
  model: ModelChoice
  model_version: Optional[int]
  class_names: List[str]
  probabilities: np.ndarray  # float32 [n, classes]
  embedding: np.ndarray  # float32 [n, d]

  def __len__(self) -> int:
    return len(self.probabilities)

  @property
  def top_class(self) -> List[str]:
    return [self.class_names[i] for i in self.probabilities.argmax(axis=1)]

  @property
  def top_score(self) -> np.ndarray:
    return self.probabilities.max(axis=1)

  def top_k(self, k: int = 3) -> List[List[Tuple[str, float]]]:
    """Returns each clip's ``k`` most likely classes with their probabilities."""
    order = np.argsort(-self.probabilities, axis=1, kind='stable')[:, :k]
    return [[(self.class_names[j], float(row[j])) for j in idx]
            for row, idx in zip(self.probabilities, order)]


@dataclasses.dataclass
class Map:
  """A fitted projection with the reference set's results, and the score of the map."""
  projection: proj.Projection
  reference: Optional[Results]
  separation: proj.Separation


def _text(value) -> str:
  return value.decode() if isinstance(value, bytes) else str(value)


def predict(client, model: ModelChoice, clips: Sequence[np.ndarray], job=None,
            progress: Optional[Progress] = None, batch_size: int = BATCH_SIZE,
            what: str = 'clips') -> Results:
  """Sends ``clips`` to the server in batches; returns the combined results.

  Raises:
    Cancelled: the job was cancelled between batches.
    EnvsoundError: from the client (server down, unknown model, bad request).
  """
  probs, embeds, names, version = [], [], None, None
  for start in range(0, len(clips), batch_size):
    if job is not None:
      job.check()
    batch = list(clips[start:start + batch_size])
    out = client.predict(model.name, batch, version=model.version, label=model.label)
    names = [_text(n) for n in out.class_names]
    version = out.model_version
    probs.append(np.asarray(out.probabilities, np.float32))
    embeds.append(np.asarray(out.embedding, np.float32))
    if progress is not None:
      done = min(start + batch_size, len(clips))
      progress(done / len(clips), f'{model}: {done}/{len(clips)} {what}')
  if not probs:
    raise ValueError('no clips to predict')
  return Results(model, version, names, np.concatenate(probs), np.concatenate(embeds))


def close(client) -> None:
  if client is not None and hasattr(client, 'close'):
    client.close()


class Session:
  """A connection to one server, with fitted maps cached per model and reference set.

  Args:
    client: an ``envsound.serving.client.Client`` (or anything with its methods).
    server: the ``host:port`` it talks to.
  """

  def __init__(self, client, server: str = ''):
    self.client = client
    self.server = server
    self._maps: Dict[tuple, Map] = {}
    self._locks: Dict[tuple, threading.Lock] = {}
    self._lock = threading.Lock()

  def replace_client(self, client) -> None:
    """Swaps in a fresh connection to the same server, keeping the fitted maps."""
    old, self.client = self.client, client
    close(old)

  def predict(self, model: ModelChoice, clips, job=None, progress=None) -> Results:
    return predict(self.client, model, clips, job, progress)

  def map_for(self, model: ModelChoice, reference: Optional[ReferenceSet],
              new: Optional[Results] = None, job=None,
              progress: Optional[Progress] = None) -> Map:
    """Returns the map for ``model``, fitted on the reference set's embeddings.

    The map is cached per (model, reference set) and refitted when ``new`` came from a
    different model version (the server loaded a new one). Without a reference set the
    map is fitted on the new clips themselves, labelled by their predicted class.
    """
    if reference is None:
      if new is None:
        raise ValueError('a map needs a reference set or new clips')
      projection = proj.fit(new.embedding, new.top_class)
      return Map(projection, None, proj.separation(projection.points, projection.labels))
    key = (model, reference.key)
    with self._lock:
      lock = self._locks.setdefault(key, threading.Lock())
    with lock:  # one fit per key, even if a Predict overtakes the pre-fit
      cached = self._maps.get(key)
      if cached is not None and (new is None or
                                 cached.reference.model_version == new.model_version):
        return cached
      ref = predict(self.client, model, reference.clips, job, progress,
                    what='reference clips')
      if job is not None:
        job.check()
      if progress is not None:
        progress(1.0, f'{model}: fitting the map on {len(reference)} reference clips')
      projection = proj.fit(ref.embedding, reference.environments)
      projection.transform(ref.embedding[:2])  # compiles UMAP's transform path now
      result = Map(projection, ref, proj.separation(projection.points, projection.labels))
      self._maps[key] = result
      return result

"""A model's predictions for the loaded clips, requested in batches. No Tk here."""

import dataclasses
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

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


def model_choices(models) -> Dict[str, ModelChoice]:
  """Display name -> choice: each model (latest version), its loaded versions and labels."""
  out = {}
  for info in sorted(models, key=lambda m: m.name):
    versions = sorted(info.versions, key=lambda v: int(v.version))
    out[info.name] = ModelChoice(info.name)
    for v in versions:
      out[f'{info.name} v{v.version}'] = ModelChoice(info.name, version=int(v.version))
    for label in sorted({l for v in versions for l in (v.labels or ())}):
      out[f'{info.name} @{label}'] = ModelChoice(info.name, label=label)
  return out


@dataclasses.dataclass
class Results:
  """One model's predictions for a list of clips."""
  model: ModelChoice
  model_version: Optional[int]
  class_names: List[str]
  probabilities: np.ndarray  # float32 [n, classes]
  embedding: np.ndarray  # float32 [n, d]: the penultimate layer
  map_xy: Optional[np.ndarray] = None  # float32 [n, 2] from the model's own map, if any

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
  probs, embeds, xy, names, version = [], [], [], None, None
  for start in range(0, len(clips), batch_size):
    if job is not None:
      job.check()
    out = client.predict(model.name, list(clips[start:start + batch_size]),
                         version=model.version, label=model.label)
    names = [_text(n) for n in out.class_names]
    version = out.model_version
    probs.append(np.asarray(out.probabilities, np.float32))
    embeds.append(np.asarray(out.embedding, np.float32))
    map_xy = getattr(out, 'map_xy', None)
    xy.append(None if map_xy is None else np.asarray(map_xy, np.float32))
    if progress is not None:
      done = min(start + batch_size, len(clips))
      progress(done / len(clips), f'{model}: {done}/{len(clips)} {what}')
  if not probs:
    raise ValueError('no clips to predict')
  placed = None if any(p is None for p in xy) else np.concatenate(xy)
  return Results(model, version, names, np.concatenate(probs), np.concatenate(embeds), placed)

"""What the serving client returns: models, versions, metadata and predictions."""

import dataclasses
from typing import Dict, List, Optional, Tuple

import numpy as np


@dataclasses.dataclass(frozen=True)
class VersionInfo:
  version: int
  state: str                      # START, LOADING, AVAILABLE, UNLOADING, END
  labels: Tuple[str, ...] = ()
  error: str = ''                 # why it failed to load, if it did


@dataclasses.dataclass(frozen=True)
class ModelInfo:
  name: str
  versions: List[VersionInfo]     # newest first

  @property
  def available(self) -> List[VersionInfo]:
    return [v for v in self.versions if v.state == 'AVAILABLE']


@dataclasses.dataclass(frozen=True)
class ModelMetadata:
  """GetModelMetadata, decoded: ``signatures[name] = {'method', 'inputs', 'outputs'}``
  with ``inputs``/``outputs`` mapping tensor alias -> (dtype name, shape with None)."""
  name: str
  version: int
  signatures: Dict[str, Dict]
  class_names: Tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Predictions:
  """One row per clip, in the order given."""
  model_name: str
  model_version: int
  class_names: Tuple[str, ...]
  probabilities: np.ndarray       # float32 [n, C]
  top_class: List[str]
  top_score: np.ndarray           # float32 [n]
  embedding: np.ndarray           # float32 [n, d]: the model's penultimate layer
  map_xy: Optional[np.ndarray] = None  # float32 [n, 2] on the model's map; None without one

  def __len__(self) -> int:
    return len(self.top_class)


@dataclasses.dataclass(frozen=True)
class ReferenceMap:
  """The reference set a model was exported with, one row per clip."""
  clip_ids: List[str]             # "<video_id>:<start seconds>"
  environments: List[str]         # true environment of each clip
  xy: np.ndarray                  # float32 [n, 2]: positions on the model's map
  penultimate: np.ndarray         # float32 [n, d]: the model's penultimate layer
  model_version: int = 0          # the version that answered

  def __len__(self) -> int:
    return len(self.clip_ids)


def text(value) -> str:
  """A string tensor's element (bytes) as text."""
  return value.decode('utf-8', 'replace') if isinstance(value, bytes) else str(value)

"""Nearest neighbours of a map point in the model's embedding space. No Tk here.

Distances are Euclidean between penultimate vectors, over the reference points and the
user's clips of the same model, so a click answers "what does the model think this is
like", not "what lies close on the 2-D picture".
"""

import dataclasses
from typing import List, Optional, Sequence

import numpy as np

REFERENCE = 'reference'
CLIP = 'clip'
K = 10


@dataclasses.dataclass(frozen=True)
class Point:
  """A point on a map: a reference clip or one of the user's clips, by index."""
  kind: str  # REFERENCE or CLIP
  index: int


@dataclasses.dataclass(frozen=True)
class Neighbour:
  """One row of the neighbour list."""
  point: Point
  name: str  # clip id or file name
  environment: str  # true environment (reference) or predicted one (clip)
  distance: float


def nearest(point: Point, reference: np.ndarray, clips: np.ndarray,
            reference_names: Sequence[str], reference_envs: Sequence[str],
            clip_names: Sequence[str], clip_envs: Sequence[str],
            k: int = K) -> List[Neighbour]:
  """The ``k`` points nearest to ``point`` (itself excluded), nearest first.

  Args:
    point: the clicked point.
    reference: penultimate vectors of the reference points ``[r, d]``.
    clips: penultimate vectors of the user's clips ``[n, d]`` (``[0, d]`` before Predict).
    reference_names, reference_envs: id and true environment per reference point.
    clip_names, clip_envs: file name and predicted environment per clip.
    k: how many neighbours.
  """
  reference = np.asarray(reference, np.float32).reshape(len(reference_names), -1)
  clips = np.asarray(clips, np.float32).reshape(len(clip_names), -1)
  every = np.concatenate([reference, clips]) if len(clips) else reference
  own = point.index + (len(reference) if point.kind == CLIP else 0)
  distance = np.linalg.norm(every - every[own], axis=1)
  distance[own] = np.inf
  order = np.argsort(distance, kind='stable')[:min(k, len(every) - 1)]
  out = []
  for i in order:
    if i < len(reference):
      out.append(Neighbour(Point(REFERENCE, int(i)), reference_names[i], reference_envs[i],
                           float(distance[i])))
    else:
      j = int(i - len(reference))
      out.append(Neighbour(Point(CLIP, j), clip_names[j], f'{clip_envs[j]} (predicted)',
                           float(distance[i])))
  return out


def of_map(point: Point, fitted, results: Optional[object], clip_names: Sequence[str],
           k: int = K) -> List[Neighbour]:
  """:func:`nearest` on a :class:`~envsound.gui.maps.Map` and, if any, its clips' results."""
  dim = fitted.embedding.shape[1] if fitted.embedding.ndim == 2 else 0
  clips = results.embedding if results is not None else np.zeros((0, dim), np.float32)
  envs = results.top_class if results is not None else []
  names = clip_names if results is not None else []
  return nearest(point, fitted.embedding, clips, fitted.ids, fitted.environments, names, envs,
                 k)

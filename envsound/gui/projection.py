"""2-D UMAP maps of model embeddings, fitted in the client. No Tk here.

The map is fitted once on the reference clips' embeddings (the model's penultimate layer)
and new clips are placed with ``UMAP.transform``, so the reference layout stays put while a
user adds clips, and pressing Predict costs one transform, not a refit.

How well a map separates the classes: ``figures.py``.
"""

import dataclasses
import sys
import warnings
from typing import Optional, Sequence

import numpy as np

N_NEIGHBORS = 15
MIN_DIST = 0.1


@dataclasses.dataclass
class Projection:
  """A fitted map: the reducer, the reference points and their class names."""
  reducer: object  # umap.UMAP, or None when there were too few points to fit one
  points: np.ndarray  # float32 [n, 2]
  labels: np.ndarray  # str [n]

  def transform(self, embeddings: np.ndarray) -> np.ndarray:
    """Places new embeddings ``[m, d]`` on this map; returns float32 ``[m, 2]``."""
    embeddings = np.asarray(embeddings, np.float32)
    if len(embeddings) == 0:
      return np.zeros((0, 2), np.float32)
    if self.reducer is None:
      return _fallback_points(embeddings)
    with warnings.catch_warnings():
      warnings.simplefilter('ignore')
      return np.asarray(self.reducer.transform(embeddings), np.float32)


def _fallback_points(embeddings: np.ndarray) -> np.ndarray:
  """Too few points for UMAP: the first two coordinates, padded to 2 columns."""
  out = np.zeros((len(embeddings), 2), np.float32)
  cols = min(2, embeddings.shape[1])
  out[:, :cols] = embeddings[:, :cols]
  return out


def _import_umap():
  """umap-learn without its ParametricUMAP, whose import pulls in TensorFlow (16 s) wherever
  TensorFlow is installed; the desktop client never uses it."""
  sys.modules.setdefault('umap.parametric_umap', None)  # umap's __init__ catches the ImportError
  import umap  # pylint: disable=import-outside-toplevel  (slow: imports numba)
  return umap


def _make_reducer(n: int, seed: Optional[int]):
  umap = _import_umap()
  return umap.UMAP(n_neighbors=max(2, min(N_NEIGHBORS, n - 1)), min_dist=MIN_DIST,
                   init='spectral' if n > 2 * N_NEIGHBORS else 'random', random_state=seed)


def fit(embeddings: np.ndarray, labels: Sequence[str], seed: Optional[int] = None
        ) -> Projection:
  """Fits a 2-D UMAP map on reference embeddings.

  Args:
    embeddings: float ``[n, d]`` penultimate-layer embeddings of the reference clips.
    labels: the class (environment) of each reference clip, for colours and scores.
    seed: fixes UMAP's randomness (slower: UMAP then runs single-threaded).

  Returns:
    The fitted :class:`Projection`.
  """
  embeddings = np.asarray(embeddings, np.float32)
  labels = np.asarray([str(l) for l in labels])
  if len(embeddings) != len(labels):
    raise ValueError(f'{len(embeddings)} embeddings but {len(labels)} labels')
  if len(embeddings) < 5:
    return Projection(None, _fallback_points(embeddings), labels)
  reducer = _make_reducer(len(embeddings), seed)
  with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    points = reducer.fit_transform(embeddings)
  return Projection(reducer, np.asarray(points, np.float32), labels)


def warm_up() -> None:
  """Compiles UMAP's numba code on a tiny random map, so the first real map is fast."""
  rng = np.random.default_rng(0)
  data = rng.normal(size=(4 * N_NEIGHBORS, 16)).astype(np.float32)
  fit(data, ['a'] * len(data)).transform(data[:8])

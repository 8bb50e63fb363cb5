"""How well points of the same class sit together: in a model's embedding space or on its map.

Three figures, computed the same way for the penultimate embeddings ``[n, d]`` and for the
2-D map ``[n, 2]``, so approaches can be ranked in both spaces:

- ``knn_agreement``: the share of each point's ``k`` nearest neighbours (itself excluded)
  that carry its label, averaged over points. 1 means every neighbourhood is pure; ``chance``
  is what labels shuffled at random would score (the sum over classes of
  ``n_c (n_c - 1) / (n (n - 1))``).
- ``silhouette``: scikit-learn's silhouette of the points grouped by label (-1..1).
- ``clusters``: the number of dense groups scikit-learn's HDBSCAN finds without the labels,
  with ``min_cluster_size`` = 2 % of the points (at least 5) and ``min_samples`` = 5; when the
  groups it finds hold under 75 % of the points, the points form one group. On unit Gaussian
  blobs 8 or 12 standard deviations apart (1 to 12 blobs, 300 and 2,000 points, 2 and 64
  dimensions, blob sizes even or up to 1:4) these settings give the true count in nearly
  every case (``bench/separation_settings.py`` prints the grid beside other settings;
  tests/core/separation_test.py checks cases of it). A larger share misses the small blobs
  of an uneven set; ``allow_single_cluster`` reports one cluster for 64-D blobs whose
  neighbourhoods are pure; without the coverage rule HDBSCAN splits a single blob into a few
  fragments (which hold at most about 65 % of its points, against over 90 % for real blobs).
  Blobs that touch count as one group, so the count is a coarse figure beside the two
  label-aware ones.
"""

import dataclasses
from typing import Dict, Optional, Sequence

import numpy as np

CLUSTER_SHARE = 0.02
MIN_CLUSTER_SIZE = 5
MIN_SAMPLES = 5
MIN_COVERAGE = 0.75


@dataclasses.dataclass(frozen=True)
class Separation:
  """Separation figures of one point set; None where a figure is undefined."""
  knn_agreement: Optional[float]
  chance: Optional[float]
  silhouette: Optional[float]
  clusters: int
  n: int

  def __str__(self) -> str:
    def fmt(value):
      return 'n/a' if value is None else f'{value:.2f}'
    return (f'kNN agreement {fmt(self.knn_agreement)} (chance {fmt(self.chance)}) · '
            f'silhouette {fmt(self.silhouette)} · {self.clusters} clusters')


def knn_agreement(points: np.ndarray, labels: np.ndarray, k: int) -> Optional[float]:
  """Mean share of each point's ``k`` nearest neighbours (self excluded) sharing its label."""
  from sklearn.neighbors import NearestNeighbors  # pylint: disable=import-outside-toplevel
  n = len(points)
  if n < 2:
    return None
  k = min(k, n - 1)
  _, index = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
  # Drop each point itself: usually column 0, but duplicated points may hide it elsewhere
  # or push it out of the list (then the last neighbour goes instead).
  keep = index != np.arange(n)[:, None]
  keep[keep.all(axis=1), -1] = False
  others = index[keep].reshape(n, k)
  return float(np.mean(labels[others] == labels[:, None]))


def chance_agreement(labels: np.ndarray) -> Optional[float]:
  """Expected ``knn_agreement`` of labels assigned at random with the same class sizes."""
  n = len(labels)
  if n < 2:
    return None
  _, counts = np.unique(labels, return_counts=True)
  return float(np.sum(counts * (counts - 1)) / (n * (n - 1)))


def silhouette(points: np.ndarray, labels: np.ndarray) -> Optional[float]:
  """scikit-learn's silhouette by label; None with fewer than 2 classes or no point to spare."""
  from sklearn.metrics import silhouette_score  # pylint: disable=import-outside-toplevel
  classes = len(np.unique(labels))
  if not 2 <= classes < len(points):
    return None
  return float(silhouette_score(points, labels))


def cluster_count(points: np.ndarray, share: float = CLUSTER_SHARE,
                  min_samples: int = MIN_SAMPLES, min_coverage: float = MIN_COVERAGE) -> int:
  """Dense groups HDBSCAN finds in ``points`` (see the module docstring); 0 below 5 points."""
  from sklearn.cluster import HDBSCAN  # pylint: disable=import-outside-toplevel
  n = len(points)
  if n < MIN_CLUSTER_SIZE:
    return 0
  size = max(MIN_CLUSTER_SIZE, round(share * n))
  found = HDBSCAN(min_cluster_size=size, min_samples=min(min_samples, n)).fit(points).labels_
  if np.mean(found >= 0) < min_coverage:
    return 1
  return len(set(found.tolist()) - {-1})


def measure(points: np.ndarray, labels: Sequence[str], k: int = 10) -> Separation:
  """Separation figures of ``points`` ``[n, d]`` whose classes are ``labels`` ``[n]``."""
  points = np.asarray(points, np.float64)
  labels = np.asarray([str(label) for label in labels])
  if points.ndim != 2 or len(points) != len(labels):
    raise ValueError(f'points of shape {points.shape} do not match {len(labels)} labels')
  return Separation(knn_agreement=knn_agreement(points, labels, k),
                    chance=chance_agreement(labels),
                    silhouette=silhouette(points, labels),
                    clusters=cluster_count(points),
                    n=len(points))


def compare(penultimate: np.ndarray, xy: np.ndarray, labels: Sequence[str],
            k: int = 10) -> Dict[str, Separation]:
  """The same figures for a model's embeddings and its 2-D map of the same points."""
  return {'embedding': measure(penultimate, labels, k), 'map': measure(xy, labels, k)}

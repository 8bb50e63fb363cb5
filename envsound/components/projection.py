"""The model's map: UMAP of reference embeddings and a small network that reproduces it.

A Trainer fits UMAP (fixed ``random_state``) on the penultimate embeddings of its reference
set (a stratified sample of the validation split), then regresses those 2-D coordinates with
a small dense network (:func:`fit_projection`). The network is exported inside the
SavedModel, so any TF Serving places a new clip on the map without UMAP in the client.

numba compiles UMAP's code on first use; its cache goes to ``NUMBA_CACHE_DIR`` (by default
``$XDG_CACHE_HOME/envsound/numba``) so later Trainer runs start warm.
"""

import os
import sys
import warnings
from typing import Optional

import numpy as np
import tensorflow as tf
import tf_keras
from sklearn.neighbors import NearestNeighbors

N_NEIGHBORS = 15
MIN_DIST = 0.1
MAX_REFERENCE = 2000  # reference clips per model (the map's points)


def numba_cache_dir() -> str:
  """Where numba caches compiled UMAP code (``NUMBA_CACHE_DIR`` when set)."""
  cache = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
  return os.environ.get('NUMBA_CACHE_DIR') or os.path.join(cache, 'envsound', 'numba')


# umap compiles these numba kernels on every start (they are not marked cache=True); caching
# them too makes a warm fit of a few hundred points take about 1 s instead of about 18 s.
_UNCACHED_KERNELS = (('umap.umap_', 'smooth_knn_dist'),
                     ('umap.umap_', 'compute_membership_strengths'),
                     ('umap.layouts', '_nb_optimize_layout_euclidean_single_epoch'))


def _import_umap():
  """Imports umap with numba's on-disk cache on for the kernels a fit compiles."""
  os.environ.setdefault('NUMBA_CACHE_DIR', numba_cache_dir())
  if 'numba' in sys.modules and 'umap' not in sys.modules:
    sys.modules['numba'].config.CACHE_DIR = os.environ['NUMBA_CACHE_DIR']
  import umap  # pylint: disable=import-outside-toplevel  (slow: imports numba)
  for module, name in _UNCACHED_KERNELS:
    kernel = getattr(sys.modules.get(module), name, None)
    if hasattr(kernel, 'enable_caching'):  # a numba Dispatcher (absent in other versions)
      kernel.enable_caching()
  return umap


def stratified_sample(labels: np.ndarray, cap: int, seed: int) -> np.ndarray:
  """Indices of at most ``cap`` rows, taking classes in turn so rare ones are kept whole.

  Each class contributes ``min(its size, an equal share)``; what small classes leave over goes
  to the larger ones. Returns the sorted indices (all rows when there are at most ``cap``).
  """
  labels = np.asarray(labels)
  if len(labels) <= cap:
    return np.arange(len(labels))
  rng = np.random.default_rng(seed)
  groups = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
  take = np.zeros(len(groups), int)
  left = cap
  while left > 0:
    open_ = [i for i, g in enumerate(groups) if take[i] < len(g)]
    share = max(1, left // len(open_))
    for i in open_:
      extra = min(share, len(groups[i]) - take[i], left)
      take[i] += extra
      left -= extra
  return np.sort(np.concatenate([g[:t] for g, t in zip(groups, take)]))


def make_umap(n: int, seed: Optional[int]):
  """A 2-D ``umap.UMAP`` sized for ``n`` points (fewer neighbours for tiny sets)."""
  umap = _import_umap()
  return umap.UMAP(n_neighbors=max(2, min(N_NEIGHBORS, n - 1)), min_dist=MIN_DIST,
                   init='spectral' if n > 2 * N_NEIGHBORS else 'random', random_state=seed)


def fit_umap(points: np.ndarray, seed: int) -> np.ndarray:
  """UMAP's float32 ``[n, 2]`` coordinates of ``points`` ``[n, d]``.

  The exact nearest neighbours come from scikit-learn (``precomputed_knn``): UMAP's own
  search for small sets is a numba kernel that recompiles in every process. The reducer
  cannot ``transform`` new points (the exported projection does that).
  """
  points = np.asarray(points, np.float32)
  reducer = make_umap(len(points), seed)
  distances, indices = NearestNeighbors(n_neighbors=reducer.n_neighbors).fit(
      points).kneighbors(points)
  reducer.precomputed_knn = (indices, distances.astype(np.float32))
  with warnings.catch_warnings():
    warnings.simplefilter('ignore')  # "n_jobs overridden by random_state", no search index
    xy = reducer.fit_transform(points)
  return np.asarray(xy, np.float32)


def build_projection(mean: np.ndarray, variance: np.ndarray,
                     hidden: int = 64) -> tf_keras.Model:
  """Dense network ``[batch, d]`` -> ``[batch, 2]`` that first normalises its inputs."""
  inputs = tf_keras.Input([len(mean)], name='penultimate')
  x = tf_keras.layers.Normalization(mean=mean, variance=variance, name='normalise')(inputs)
  for i in range(2):
    x = tf_keras.layers.Dense(hidden, activation='relu', name=f'map_hidden{i}')(x)
  outputs = tf_keras.layers.Dense(2, name='map_xy')(x)
  return tf_keras.Model(inputs, outputs, name='map_projection')


def fit_projection(points: np.ndarray, xy: np.ndarray, seed: int, epochs: int = 300,
                   hidden: int = 64) -> tf_keras.Model:
  """Trains :func:`build_projection` to regress ``xy`` from ``points`` (mean squared error).

  ``epochs`` passes over the points, in batches of about an eighth of them (at least 32).

  The targets are standardised for training; the output layer is then rescaled so the
  network returns map coordinates directly.
  """
  points = np.asarray(points, np.float32)
  xy = np.asarray(xy, np.float32)
  mean, std = xy.mean(0), np.maximum(xy.std(0), 1e-6)
  tf_keras.utils.set_random_seed(seed)
  model = build_projection(points.mean(0), points.var(0), hidden)
  batch = min(len(points), max(32, len(points) // 8))  # ~8 steps per pass
  steps = epochs * int(np.ceil(len(points) / batch))
  schedule = tf_keras.optimizers.schedules.CosineDecay(3e-3, decay_steps=steps, alpha=0.05)
  model.compile(optimizer=tf_keras.optimizers.Adam(schedule), loss='mse')
  # One Keras epoch of all the steps: per-epoch overhead would dominate on small sets.
  passes = tf.data.Dataset.from_tensor_slices((points, (xy - mean) / std)).shuffle(
      len(points), seed=seed, reshuffle_each_iteration=True).repeat().batch(batch)
  model.fit(passes, steps_per_epoch=steps, epochs=1, verbose=0)
  last = model.get_layer('map_xy')
  kernel, bias = last.get_weights()
  last.set_weights([kernel * std, bias * std + mean])
  return model

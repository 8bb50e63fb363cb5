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
import tf_keras

N_NEIGHBORS = 15
MIN_DIST = 0.1
MAX_REFERENCE = 2000  # reference clips per model (the map's points)


def numba_cache_dir() -> str:
  """Where numba caches compiled UMAP code (``NUMBA_CACHE_DIR`` when set)."""
  cache = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
  return os.environ.get('NUMBA_CACHE_DIR') or os.path.join(cache, 'envsound', 'numba')


def _import_umap():
  """Imports umap with numba's cache set (also when numba itself is already imported)."""
  os.environ.setdefault('NUMBA_CACHE_DIR', numba_cache_dir())
  if 'numba' in sys.modules and 'umap' not in sys.modules:
    sys.modules['numba'].config.CACHE_DIR = os.environ['NUMBA_CACHE_DIR']
  import umap  # pylint: disable=import-outside-toplevel  (slow: imports numba)
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


def fit_umap(points: np.ndarray, seed: int):
  """Fits UMAP on ``points`` ``[n, d]``; returns ``(reducer, float32 [n, 2] coordinates)``."""
  reducer = make_umap(len(points), seed)
  with warnings.catch_warnings():
    warnings.simplefilter('ignore')  # "n_jobs overridden by random_state", spectral notes
    xy = reducer.fit_transform(np.asarray(points, np.float32))
  return reducer, np.asarray(xy, np.float32)


def build_projection(dim: int, hidden: int = 64) -> tf_keras.Model:
  """Dense network ``[batch, dim]`` -> ``[batch, 2]`` (input normalisation built in)."""
  inputs = tf_keras.Input([dim], name='penultimate')
  x = tf_keras.layers.Normalization(name='normalise')(inputs)
  for i in range(2):
    x = tf_keras.layers.Dense(hidden, activation='relu', name=f'map_hidden{i}')(x)
  outputs = tf_keras.layers.Dense(2, name='map_xy')(x)
  return tf_keras.Model(inputs, outputs, name='map_projection')


def fit_projection(points: np.ndarray, xy: np.ndarray, seed: int, epochs: int = 300,
                   hidden: int = 64) -> tf_keras.Model:
  """Trains :func:`build_projection` to regress ``xy`` from ``points`` (mean squared error).

  The targets are standardised for training; the output layer is then rescaled so the
  network returns map coordinates directly.
  """
  points = np.asarray(points, np.float32)
  xy = np.asarray(xy, np.float32)
  mean, std = xy.mean(0), np.maximum(xy.std(0), 1e-6)
  tf_keras.utils.set_random_seed(seed)
  model = build_projection(points.shape[1], hidden)
  model.get_layer('normalise').adapt(points)
  batch = max(32, len(points) // 8)  # ~8 steps per epoch
  schedule = tf_keras.optimizers.schedules.CosineDecay(
      3e-3, decay_steps=epochs * int(np.ceil(len(points) / batch)), alpha=0.05)
  model.compile(optimizer=tf_keras.optimizers.Adam(schedule), loss='mse')
  model.fit(points, (xy - mean) / std, batch_size=batch, epochs=epochs, shuffle=True,
            verbose=0)
  last = model.get_layer('map_xy')
  kernel, bias = last.get_weights()
  last.set_weights([kernel * std, bias * std + mean])
  return model

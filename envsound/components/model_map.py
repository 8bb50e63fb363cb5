"""Fits a trained model's map on its validation split, for export and the results report.

:func:`fit_model_map` takes a stratified sample of the validation split (at most
``projection.MAX_REFERENCE`` clips), computes the model's penultimate embeddings, fits UMAP
and the parametric projection (projection.py) and returns what signatures.save_model
exports. The exported reference positions are the projection's own output, so a served clip
identical to a reference clip lands exactly on it. :func:`write_separation` records how well
the classes separate, in ``<model_run_dir>/separation.json``:

```
{"n": 2000, "k": 10,
 "embedding": {"knn_agreement": .., "chance": .., "silhouette": .., "clusters": .., "n": ..},
 "map":       {...},   # the exported map (map_xy of the reference clips)
 "umap":      {...},   # UMAP's own coordinates of the same clips
 "seconds":   {"embed": .., "umap": .., "projection": ..}}
```
(``core.separation.Separation``'s fields, labels = true environments; None where undefined.)
"""

import dataclasses
import json
import logging
import os
import time
from typing import Dict, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras

from envsound.components import data, projection
from envsound.components.model_layers import PENULTIMATE_LAYER
from envsound.components.reference_map import ReferenceSet
from envsound.core import features, separation

SEPARATION_FILE = 'separation.json'
KNN = 10  # neighbours of the kNN class agreement


@dataclasses.dataclass(frozen=True)
class ModelMap:
  """A fitted map: the projection network, its reference set and UMAP's own coordinates."""
  projection: tf_keras.Model
  reference: ReferenceSet
  labels: np.ndarray  # int64 [n], class index of each reference clip
  umap_xy: np.ndarray  # float32 [n, 2]
  seconds: Dict[str, float]


def read_reference_split(file_pattern, tft_output: tft.TFTransformOutput, cap: int,
                         seed: int) -> Tuple[Dict[str, np.ndarray], np.ndarray, np.ndarray]:
  """A stratified sample of a transformed split's clips in an environment: ``(model inputs,
  labels, clip ids)``.

  Transform outputs written before clip ids were kept have none: rows are then named
  ``"row:<i>"``.
  """
  keys = data.MODEL_INPUTS + (features.LABEL_XF,)
  has_ids = features.CLIP_ID_XF in tft_output.transformed_feature_spec()
  if not has_ids:
    logging.warning('the Transform output has no %s: reference clips are named by row',
                    features.CLIP_ID_XF)
  columns = data.read_columns(file_pattern, tft_output,
                              keys + ((features.CLIP_ID_XF,) if has_ids else ()))
  labels = columns[features.LABEL_XF]
  in_env = np.flatnonzero(labels >= 0)  # clips a multi-label target kept without one: none
  keep = in_env[projection.stratified_sample(labels[in_env], cap, seed)]
  ids = (np.array([c.decode('utf-8', 'replace') for c in columns[features.CLIP_ID_XF][keep]])
         if has_ids else np.array([f'row:{i}' for i in keep]))
  return {k: columns[k][keep] for k in data.MODEL_INPUTS}, labels[keep], ids


def fit_model_map(model: tf_keras.Model, file_pattern, tft_output: tft.TFTransformOutput,
                  class_names: Sequence[str], seed: int,
                  cap: int = projection.MAX_REFERENCE) -> ModelMap:
  """Fits the map of ``model`` on (a sample of) the split at ``file_pattern``.

  Args:
    model: the trained Keras model, with a layer named PENULTIMATE_LAYER.
    file_pattern: the validation split's transformed examples (``fn_args.eval_files``).
    tft_output: the Transform graph.
    class_names: environment ids in class index order.
    seed: UMAP's random_state and the projection's seed.
    cap: at most this many reference clips.
  """
  seconds = {}
  start = time.perf_counter()
  inputs, labels, clip_ids = read_reference_split(file_pattern, tft_output, cap, seed)
  if not len(labels):
    raise ValueError(f'{file_pattern}: no validation examples to fit the model map on')
  embed = tf_keras.Model(model.inputs, model.get_layer(PENULTIMATE_LAYER).output)
  penultimate = np.asarray(embed.predict(inputs, batch_size=512, verbose=0), np.float32)
  seconds['embed'] = time.perf_counter() - start
  start = time.perf_counter()
  umap_xy = projection.fit_umap(penultimate, seed)
  seconds['umap'] = time.perf_counter() - start
  start = time.perf_counter()
  net = projection.fit_projection(penultimate, umap_xy, seed)
  xy = np.asarray(net.predict(penultimate, batch_size=1024, verbose=0), np.float32)
  seconds['projection'] = time.perf_counter() - start
  names = np.array([class_names[l] if 0 <= l < len(class_names) else '' for l in labels])
  logging.info('model map: %d reference clips, %s', len(labels),
               ', '.join(f'{k} {v:.1f} s' for k, v in seconds.items()))
  return ModelMap(net, ReferenceSet(clip_ids, names, penultimate, xy), labels, umap_xy,
                  seconds)


def write_separation(model_map: ModelMap, run_dir: str) -> str:
  """Writes ``<run_dir>/separation.json`` (format in the module docstring); returns its path."""
  ref = model_map.reference
  figures = separation.compare(ref.penultimate, ref.xy, ref.environments, k=KNN)
  umap_figures = separation.measure(model_map.umap_xy, ref.environments, k=KNN)
  record = {'n': len(model_map.labels), 'k': KNN,
            **{k: dataclasses.asdict(v) for k, v in figures.items()},
            'umap': dataclasses.asdict(umap_figures),
            'seconds': {k: round(v, 3) for k, v in model_map.seconds.items()}}
  tf.io.gfile.makedirs(run_dir)
  path = os.path.join(run_dir, SEPARATION_FILE)
  with tf.io.gfile.GFile(path, 'w') as f:
    json.dump(record, f, indent=1)
  return path

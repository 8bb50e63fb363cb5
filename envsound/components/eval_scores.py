"""Per-clip eval-split scores beside a component's figures (``eval_scores.npz``), so that two
models scored on the same clips can be compared clip by clip (tagging_uncertainty).

The TaggingEvaluator writes its model's scores into its ModelEvaluation, the tagging
Reference its linear model's into its Reference artifact; both read the ExampleGen's eval
split in file order, and the labels stored beside the scores let a reader check that two
files hold the same clips.
"""

import io
import os
from typing import Optional, Tuple

import numpy as np

EVAL_SCORES_FILE = 'eval_scores.npz'


def write(folder: str, labels: np.ndarray, scores: np.ndarray) -> str:
  """Writes 0/1 ``labels`` and ``scores`` (both ``[clips, classes]``) to
  ``<folder>/eval_scores.npz`` atomically; returns the path.

  Raises:
    ValueError: the shapes differ.
  """
  # pylint: disable=import-outside-toplevel
  import tensorflow as tf
  from envsound.core import atomic
  labels, scores = np.asarray(labels), np.asarray(scores)
  if labels.shape != scores.shape or labels.ndim != 2:
    raise ValueError(f'labels {labels.shape} and scores {scores.shape} must both be '
                     '[clips, classes]')
  buffer = io.BytesIO()
  np.savez_compressed(buffer, labels=labels.astype(np.uint8), scores=scores.astype(np.float32))
  tf.io.gfile.makedirs(folder)
  path = os.path.join(folder, EVAL_SCORES_FILE)
  with atomic.atomic_file(path, 'wb') as f:
    f.write(buffer.getvalue())
  return path


def read(folder: str) -> Optional[Tuple[np.ndarray, np.ndarray]]:
  """``(labels, scores)`` from ``<folder>/eval_scores.npz``; None where there is none (a
  component run before it wrote them).

  Raises:
    ValueError: the file lacks ``labels`` or ``scores`` (named).
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  path = os.path.join(folder, EVAL_SCORES_FILE)
  if not tf.io.gfile.exists(path):
    return None
  with tf.io.gfile.GFile(path, 'rb') as f:
    arrays = np.load(io.BytesIO(f.read()))
    missing = sorted({'labels', 'scores'} - set(arrays.files))
    if missing:
      raise ValueError(f'{path}: no {", ".join(missing)} array')
    return arrays['labels'].astype(np.int64), arrays['scores']

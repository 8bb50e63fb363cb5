"""Clip-level tagging metrics as the AudioSet literature reports them (numpy + scikit-learn).

Hershey et al. 2017 (and Kong et al. 2018/2019 after them) score a model on AudioSet's eval
split by, per class, the average precision and the area under the ROC curve of its scores,
then report their means over classes (mAP, AUC) and the d-prime of the mean AUC,
``d' = sqrt(2) * Phi^-1(AUC)``. A class whose labels are all one value on the scored clips
has no AP (no positives) or no AUC (no negatives); it is left out of the means and counted.

For environments (one label per clip) :func:`per_class_average_precision` scores each
environment one-vs-rest on the softmax probabilities.
"""

import dataclasses
from typing import Dict, Sequence

import numpy as np
from scipy import stats
from sklearn import metrics as sk_metrics


@dataclasses.dataclass(frozen=True)
class TaggingScores:
  """Means over classes, with how many classes each mean covers.

  Attributes:
    mean_average_precision: mAP over classes with at least one positive.
    mean_auc: ROC AUC averaged over classes with positives and negatives.
    d_prime: ``sqrt(2) * Phi^-1(mean_auc)``.
    ap_classes: classes in the mAP.
    auc_classes: classes in the mean AUC.
  """
  mean_average_precision: float
  mean_auc: float
  d_prime: float
  ap_classes: int
  auc_classes: int


def _check(y_true: np.ndarray, scores: np.ndarray):
  y_true, scores = np.asarray(y_true), np.asarray(scores, dtype=np.float64)
  if y_true.ndim != 2 or y_true.shape != scores.shape:
    raise ValueError(f'labels {y_true.shape} and scores {scores.shape} must both be '
                     '[clips, classes]')
  if not np.isin(y_true, (0, 1)).all():
    raise ValueError('labels must be 0 or 1')
  return y_true.astype(np.int64), scores


def average_precision(y_true: np.ndarray, scores: np.ndarray) -> np.ndarray:
  """Per-class average precision ``[classes]``; NaN for a class with no positive clip.

  Args:
    y_true: 0/1 labels ``[clips, classes]``.
    scores: scores ``[clips, classes]`` (higher: more likely).
  """
  y_true, scores = _check(y_true, scores)
  return np.array([sk_metrics.average_precision_score(y_true[:, c], scores[:, c])
                   if y_true[:, c].any() else np.nan for c in range(y_true.shape[1])])


def auc(y_true: np.ndarray, scores: np.ndarray) -> np.ndarray:
  """Per-class ROC AUC ``[classes]``; NaN for a class whose clips are all positive or negative."""
  y_true, scores = _check(y_true, scores)
  return np.array([sk_metrics.roc_auc_score(y_true[:, c], scores[:, c])
                   if 0 < y_true[:, c].sum() < len(y_true) else np.nan
                   for c in range(y_true.shape[1])])


def d_prime(auc_value: float) -> float:
  """Sensitivity index of an AUC: ``sqrt(2) * Phi^-1(auc)`` (Hershey et al. 2017)."""
  return float(np.sqrt(2.0) * stats.norm.ppf(auc_value))


def tagging_scores(y_true: np.ndarray, scores: np.ndarray) -> TaggingScores:
  """mAP, mean AUC and d-prime over the classes that have them.

  Raises:
    ValueError: shapes differ, labels are not 0/1, or no class has both positives and
      negatives.
  """
  ap, roc = average_precision(y_true, scores), auc(y_true, scores)
  if np.isnan(roc).all():
    raise ValueError('no class has both positive and negative clips')
  mean_auc = float(np.nanmean(roc))
  return TaggingScores(float(np.nanmean(ap)), mean_auc, d_prime(mean_auc),
                       int((~np.isnan(ap)).sum()), int((~np.isnan(roc)).sum()))


def multi_hot(rows: np.ndarray, values: np.ndarray, clips: int, classes: int) -> np.ndarray:
  """int64 ``[clips, classes]``: 1 at (rows[i], values[i]) (a ragged tensor's
  ``value_rowids()`` and ``flat_values``); values outside ``[0, classes)`` are ignored."""
  rows, values = np.asarray(rows, np.int64), np.asarray(values, np.int64)
  out = np.zeros((clips, classes), np.int64)
  inside = (values >= 0) & (values < classes)
  out[rows[inside], values[inside]] = 1
  return out


def per_class_average_precision(labels: np.ndarray, probabilities: np.ndarray,
                                class_names: Sequence[str]) -> Dict[str, float]:
  """One-vs-rest average precision of each class of a single-label classifier.

  Args:
    labels: class index of each clip ``[clips]``.
    probabilities: the model's class probabilities ``[clips, classes]``.
    class_names: name of each class, in index order.

  Returns:
    ``{class name: AP}``; NaN for a class without clips.

  Raises:
    ValueError: shapes disagree or a label is outside ``[0, classes)``.
  """
  labels = np.asarray(labels)
  probabilities = np.asarray(probabilities)
  if probabilities.ndim != 2 or len(class_names) != probabilities.shape[1] or (
      len(labels) != len(probabilities)):
    raise ValueError(f'{len(labels)} labels, probabilities {probabilities.shape} and '
                     f'{len(class_names)} class names do not match')
  if labels.size and (labels.min() < 0 or labels.max() >= len(class_names)):
    raise ValueError(f'labels must lie in [0, {len(class_names)})')
  one_hot = np.eye(len(class_names), dtype=np.int64)[labels]
  return dict(zip(class_names, average_precision(one_hot, probabilities).tolist()))

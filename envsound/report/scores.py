"""Validation scores of one model: accuracy, macro-F1 and per-class metrics of top-1 predictions,
and per-class average precision of its probabilities where they were scored."""

import dataclasses
import math
from typing import Dict, Optional, Tuple

import numpy as np

COLLAPSE_SHARE = 0.9  # a model predicting one class this often has collapsed


@dataclasses.dataclass
class Scores:
  """Validation scores of one model.

  Attributes:
    accuracy: share of clips whose top class is the true environment.
    macro_f1: unweighted mean of the per-class F1 scores defined (top-1 predictions).
    per_class: [num_classes, 3] recall, precision, F1 of top-1 predictions (NaN where
      undefined).
    confusion: [true, predicted] clip counts.
    evaluator_macro_f1: TFMA's macro-F1 as the Evaluator computes it (one-vs-rest,
      a class predicted when its probability exceeds 0.5); NaN for the reference.
    average_precision: [num_classes] one-vs-rest average precision of the class
      probabilities (NaN for a class without validation clips); None when not scored.
    clip_correct: whether the top class is right, per validation clip id; None when the
      model was not run over its clips (report.precision).
  """
  accuracy: float
  macro_f1: float
  per_class: np.ndarray
  confusion: np.ndarray
  evaluator_macro_f1: float = math.nan
  average_precision: Optional[np.ndarray] = None
  clip_correct: Optional[Dict[str, bool]] = None

  @property
  def standard_error(self) -> float:
    """Binomial standard error of the accuracy over the clips of the confusion matrix."""
    n = self.confusion.sum()
    return math.sqrt(self.accuracy * (1 - self.accuracy) / n) if n else math.nan

  @property
  def mean_average_precision(self) -> float:
    """Mean of the defined per-class average precisions (NaN when none was scored)."""
    if self.average_precision is None or np.isnan(self.average_precision).all():
      return math.nan
    return float(np.nanmean(self.average_precision))


def scores_from_predictions(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int,
                            weights: Optional[np.ndarray] = None,
                            evaluator_macro_f1: float = math.nan) -> Scores:
  """Top-1 scores of predicted class indices, by scikit-learn (NaN where undefined).

  Args:
    y_true: true class index per clip (or per weighted entry).
    y_pred: predicted class index, same shape.
    num_classes: classes 0..num_classes-1 all get a row and a column.
    weights: clips each entry stands for (default: 1 each).
    evaluator_macro_f1: TFMA's macro-F1, carried along.
  """
  # pylint: disable=import-outside-toplevel
  from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
  labels = list(range(num_classes))
  confusion = confusion_matrix(y_true, y_pred, labels=labels, sample_weight=weights)
  confusion = np.rint(confusion).astype(np.int64)
  if not confusion.sum():
    undefined = np.full((num_classes, 3), math.nan)
    return Scores(math.nan, math.nan, undefined, confusion, evaluator_macro_f1)
  precision, recall, f1, _ = precision_recall_fscore_support(
      y_true, y_pred, labels=labels, sample_weight=weights, zero_division=np.nan)
  defined = f1[~np.isnan(f1)]
  return Scores(accuracy=float(np.trace(confusion) / confusion.sum()),
                macro_f1=float(defined.mean()) if defined.size else math.nan,
                per_class=np.stack([recall, precision, f1], axis=1), confusion=confusion,
                evaluator_macro_f1=evaluator_macro_f1)


def scores_from_confusion(confusion: np.ndarray,
                          evaluator_macro_f1: float = math.nan) -> Scores:
  """Top-1 scores of a [true, predicted] confusion matrix of clip counts."""
  confusion = np.asarray(confusion)
  true, predicted = np.indices(confusion.shape)
  return scores_from_predictions(true.ravel(), predicted.ravel(), len(confusion),
                                 weights=confusion.ravel(),
                                 evaluator_macro_f1=evaluator_macro_f1)


def collapsed_class(scores: Scores) -> Optional[Tuple[int, float]]:
  """(class, share) when one predicted class takes at least COLLAPSE_SHARE of the clips."""
  predicted = scores.confusion.sum(axis=0)
  total = predicted.sum()
  if not total or predicted.max() / total < COLLAPSE_SHARE:
    return None
  return int(predicted.argmax()), float(predicted.max() / total)

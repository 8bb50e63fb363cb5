"""The references a multi-label (AudioSet tagging) model must beat, scored as the literature
scores models (multilabel_metrics: mAP, mean AUC, d').

- The linear reference: one-vs-rest logistic regression on the standardised mean and standard
  deviation pooled embeddings (reference.pool), L2 strength fixed at ``C`` (a cross-validated
  search per class would cost 527 times a grid), at most ``MAX_TRAIN_CLIPS`` training clips (a
  seeded random subset). The per-class regressions are fitted together, as scikit-learn's
  MLPClassifier without hidden layers (logistic outputs, log loss summed over classes, L-BFGS,
  ``alpha = 1 / C``): the loss separates by class, so the optimum is that of separate fits,
  at a fraction of the time of 527 LogisticRegression fits. A class with no positive (or no
  negative) training clip gets no model; its score is its training frequency, as in the
  prior below.
- The label prior: every clip scored by each class's frequency in the training split. Its AP
  is each class's share of the validation clips, its AUC 0.5: the mAP it reaches is the floor.
"""

import dataclasses
import warnings
from typing import ClassVar, List, Optional, Tuple

import numpy as np

from envsound.components import multilabel_metrics, reference
from envsound.core import features

C = 0.1
MAX_ITER = 200  # L-BFGS iterations
MAX_TRAIN_CLIPS = reference.MAX_TRAIN_CLIPS
RESULT_FILE = 'tagging_reference.json'


@dataclasses.dataclass
class TaggingReference(reference.JsonResult):
  """The linear reference's and the label prior's tagging scores on the validation split."""
  RESULT_FILE: ClassVar[str] = RESULT_FILE
  mean_average_precision: float
  mean_auc: float
  d_prime: float
  ap_classes: int       # classes with a validation positive (those in the mAP)
  prior_map: float      # mAP of the label prior (the floor)
  train_clips: int
  eval_clips: int
  fitted_classes: int   # classes with a linear model (positives and negatives in training)
  c: float
  average_precision: Optional[List[float]] = None  # per class (NaN: no validation positive)


def read_pooled_tags(examples_uri: str, split: str,
                     num_classes: int) -> Tuple[np.ndarray, np.ndarray]:
  """Pooled features and multi-hot labels of every clip of an ExampleGen split."""
  xs = [np.zeros((0, 2 * features.EMBEDDING_DIM), np.float32)]
  ys = [np.zeros((0, num_classes), np.int64)]
  for x, labels in reference.pooled_batches(examples_uri, split, features.LABELS_KEY):
    xs.append(x)
    ys.append(multilabel_metrics.multi_hot(labels.value_rowids().numpy(),
                                           labels.flat_values.numpy(), len(x), num_classes))
  return np.concatenate(xs), np.concatenate(ys)


def linear_scores(x_train: np.ndarray, y_train: np.ndarray, x_eval: np.ndarray,
                  c: float = C, seed: int = 0) -> Tuple[np.ndarray, int]:
  """One-vs-rest logistic-regression probabilities ``[eval clips, classes]`` and how many
  classes got a model (the others score their training frequency)."""
  # pylint: disable=import-outside-toplevel
  from sklearn.neural_network import MLPClassifier
  from sklearn.preprocessing import StandardScaler
  if len(y_train) > MAX_TRAIN_CLIPS:
    rows = np.sort(np.random.default_rng(seed).choice(len(y_train), MAX_TRAIN_CLIPS, False))
    x_train, y_train = x_train[rows], y_train[rows]
  scaler = StandardScaler().fit(x_train)
  x_fit, x_score = scaler.transform(x_train), scaler.transform(x_eval)
  scores = np.tile(y_train.mean(axis=0), (len(x_eval), 1))
  positives = y_train.sum(axis=0)
  fitted = np.flatnonzero((positives > 0) & (positives < len(y_train)))
  if not len(fitted):
    return scores, 0
  model = MLPClassifier(hidden_layer_sizes=(), solver='lbfgs', alpha=1.0 / c,
                        max_iter=MAX_ITER, random_state=seed)
  with warnings.catch_warnings():  # stopping at MAX_ITER still gives a linear model
    warnings.simplefilter('ignore')
    model.fit(x_fit, y_train[:, fitted])
  probabilities = model.predict_proba(x_score)
  scores[:, fitted] = probabilities[:, -len(fitted):]  # one class fitted: [p(0), p(1)]
  return scores, len(fitted)


def fit(x_train: np.ndarray, y_train: np.ndarray, x_eval: np.ndarray,
        y_eval: np.ndarray) -> Tuple[TaggingReference, np.ndarray]:
  """Fits the linear reference on the training split; scores it and the label prior on the
  validation split.

  Returns:
    The figures, and the linear reference's scores of every validation clip
    ``[clips, classes]`` (for paired comparisons, eval_scores.py).

  Raises:
    ValueError: no class has positive and negative validation clips.
  """
  scores, fitted = linear_scores(x_train, y_train, x_eval)
  linear = multilabel_metrics.tagging_scores(y_eval, scores)
  prior = multilabel_metrics.tagging_scores(
      y_eval, np.tile(y_train.mean(axis=0), (len(y_eval), 1)))
  return TaggingReference(
      mean_average_precision=linear.mean_average_precision, mean_auc=linear.mean_auc,
      d_prime=linear.d_prime, ap_classes=linear.ap_classes,
      prior_map=prior.mean_average_precision, train_clips=int(len(y_train)),
      eval_clips=int(len(y_eval)), fitted_classes=fitted, c=C,
      average_precision=multilabel_metrics.average_precision(y_eval, scores).tolist()), scores

"""How sure a difference in mAP is: the paired bootstrap over eval clips (numpy only, seeded).

Two models scored on the same eval clips differ in mAP by ``d``. Each bootstrap resample
draws the clips with replacement (a multinomial count per clip, the same counts for both
models), recomputes both mAPs on it and their difference; the standard deviation of those
differences is the standard error of ``d``. A drawn-twice clip counts twice in each class's
average precision, which is scikit-learn's ``average_precision_score`` with the counts as
``sample_weight`` (tied scores form one threshold); a class without a drawn positive is left
out of that resample's mean, as multilabel_metrics leaves out classes without positives.
"""

import dataclasses
from typing import List

import numpy as np

RESAMPLES = 1000
SEED = 0
_CHUNK_CELLS = 4_000_000  # resamples x clips per block of work (bounds the memory)


@dataclasses.dataclass(frozen=True)
class MapDifference:
  """``mAP(a) - mAP(b)`` on the eval clips and its paired bootstrap standard error."""
  difference: float
  standard_error: float
  resamples: int

  @property
  def beyond_two_se(self) -> bool:
    """The difference is more than two standard errors from 0."""
    return abs(self.difference) > 2.0 * self.standard_error


def bootstrap_counts(clips: int, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
  """How often each clip is drawn in each resample: int64 ``[resamples, clips]``, rows
  summing to ``clips``."""
  rng = np.random.default_rng(seed)
  return rng.multinomial(clips, np.full(clips, 1.0 / clips), size=resamples)


def weighted_average_precision(y_true: np.ndarray, scores: np.ndarray,
                               weights: np.ndarray) -> np.ndarray:
  """Per-class average precision under each row of clip weights.

  Only thresholds at a positive clip's score move recall, so per class the weight above
  each of them (weights times an indicator matrix: one matrix product) gives the curve.

  Args:
    y_true: 0/1 labels ``[clips, classes]``.
    scores: scores ``[clips, classes]`` (higher: more likely).
    weights: non-negative clip weights ``[rows, clips]`` (bootstrap counts; float32 sums,
      exact for integer counts below 2**24).

  Returns:
    float64 ``[rows, classes]``; NaN where a row gives a class no positive weight.
  """
  y_true, scores = np.asarray(y_true), np.asarray(scores)
  weights = np.asarray(weights, np.float32)
  out = np.full((len(weights), y_true.shape[1]), np.nan)
  for c in range(y_true.shape[1]):
    positive = np.flatnonzero(y_true[:, c])
    if not len(positive):
      continue
    thresholds = np.unique(scores[positive, c])[::-1]  # descending
    above = (scores[:, c, None] >= thresholds).astype(np.float32)  # [clips, thresholds]
    taken = (weights @ above).astype(np.float64)
    true_pos = (weights[:, positive] @ above[positive]).astype(np.float64)
    total = true_pos[:, -1]
    gained = np.diff(true_pos, axis=1, prepend=0.0)
    precision = true_pos / np.maximum(taken, 1e-300)
    with np.errstate(invalid='ignore', divide='ignore'):
      out[:, c] = np.where(total > 0, (gained * precision).sum(axis=1) / total, np.nan)
  return out


def _mean_ap(y_true: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
  """mAP ``[rows]`` under each row of weights (classes without positive weight left out;
  NaN where no class has one)."""
  ap = weighted_average_precision(y_true, scores, weights)
  counted = (~np.isnan(ap)).sum(axis=1)
  return np.where(counted > 0, np.nansum(ap, axis=1) / np.maximum(counted, 1), np.nan)


def _score_sets(scores, shape) -> List[np.ndarray]:
  sets = [np.asarray(scores)] if np.ndim(scores) == 2 else [np.asarray(s) for s in scores]
  if not sets or any(s.shape != shape for s in sets):
    raise ValueError(f'labels {shape} and scores {[s.shape for s in sets]} must all be '
                     '[clips, classes]')
  return sets


def paired_map_difference(y_true: np.ndarray, scores_a, scores_b,
                          resamples: int = RESAMPLES, seed: int = SEED) -> MapDifference:
  """``mAP(scores_a) - mAP(scores_b)`` on the clips of ``y_true`` and its paired bootstrap
  standard error (``resamples`` resamples drawn with ``seed``; those that draw no positive
  clip are dropped, and ``resamples`` of the result counts the others).

  ``scores_a``, ``scores_b``: ``[clips, classes]`` each, or a sequence of them (e.g. one per
  training seed), whose mAP is the mean of their mAPs on the same resample.

  Raises:
    ValueError: the arrays are not all ``[clips, classes]`` of one shape, the labels are not
      0/1, no class has a positive, or fewer than 2 resamples drew a positive.
  """
  y_true = np.asarray(y_true)
  if y_true.ndim != 2:
    raise ValueError(f'labels {y_true.shape} must be [clips, classes]')
  sets_a, sets_b = _score_sets(scores_a, y_true.shape), _score_sets(scores_b, y_true.shape)
  if not np.isin(y_true, (0, 1)).all():
    raise ValueError('labels must be 0 or 1')
  present = np.flatnonzero(y_true.any(axis=0))
  if not len(present):
    raise ValueError('no class has a positive clip')
  y_true = y_true[:, present]
  sets_a, sets_b = [s[:, present] for s in sets_a], [s[:, present] for s in sets_b]

  def difference_under(weights):
    return (np.mean([_mean_ap(y_true, s, weights) for s in sets_a], axis=0)
            - np.mean([_mean_ap(y_true, s, weights) for s in sets_b], axis=0))

  clips = len(y_true)
  difference = float(difference_under(np.ones((1, clips)))[0])
  counts = bootstrap_counts(clips, resamples, seed)
  step = max(1, _CHUNK_CELLS // clips)
  diffs = np.concatenate([difference_under(counts[i:i + step])
                          for i in range(0, resamples, step)])
  diffs = diffs[~np.isnan(diffs)]  # a resample that drew no positive of any class
  if len(diffs) < 2:
    raise ValueError(f'fewer than 2 of {resamples} resamples drew a positive clip')
  return MapDifference(difference, float(np.std(diffs, ddof=1)), len(diffs))

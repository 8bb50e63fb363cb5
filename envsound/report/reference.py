"""The reference row of the report: the pipeline's own reference (its Reference component).

The report shows the scores the quality gate compared each model with, read from the
Reference component's ``reference.json`` (``components.reference``), not a second fit.
"""

import numpy as np

from envsound.components import reference as reference_lib
from envsound.report import scores as scores_lib

REFERENCE_TITLE = 'Reference: logistic regression on pooled embeddings'

DESCRIPTION = (
    'The reference is the one the quality gate compares every model with (the pipeline\'s '
    'Reference component): a multinomial logistic regression (scikit-learn, standardised '
    'inputs, L2 strength chosen by {folds}-fold cross-validation on the training split, at '
    'most {max_clips:,} training clips) on the mean and standard deviation of each clip\'s '
    'dequantised VGGish embeddings over its real frames, trained on the balanced set\'s '
    'training split and scored on its validation split.'
).format(folds=reference_lib.CV_FOLDS, max_clips=reference_lib.MAX_TRAIN_CLIPS)


def reference_scores(result: reference_lib.ReferenceResult) -> scores_lib.Scores:
  """Top-1 scores of the reference from its validation confusion matrix, with its per-class
  average precision when the Reference component recorded it."""
  scores = scores_lib.scores_from_confusion(np.asarray(result.confusion, np.int64))
  if result.average_precision is not None:
    scores.average_precision = np.asarray(result.average_precision, np.float64)
  return scores

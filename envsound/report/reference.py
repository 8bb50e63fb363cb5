"""The reference in the report: the pipeline's own Reference artifact, read, not refitted."""

from typing import Optional

import numpy as np

from envsound.components import reference as reference_lib
from envsound.report import scores as scores_lib

REFERENCE_TITLE = 'Reference: logistic regression on pooled embeddings'
DESCRIPTION = (
    'The reference is what the quality gate compares each model against: a multinomial '
    'logistic regression (scikit-learn, standardised inputs) on the mean and the standard '
    'deviation of each clip\'s dequantised VGGish frames, its L2 strength chosen by '
    f'{reference_lib.CV_FOLDS}-fold cross-validation on the training split, fitted per '
    'training set by the pipeline\'s Reference component; this table shows the balanced '
    'set\'s.')


def read(artifact) -> Optional[reference_lib.ReferenceResult]:
  """The ReferenceResult of a Reference artifact (None when there is none)."""
  return None if artifact is None else reference_lib.ReferenceResult.read(artifact.uri)


def scores_of(result: reference_lib.ReferenceResult) -> scores_lib.Scores:
  """The reference's top-1 scores, from the confusion matrix it recorded."""
  return scores_lib.scores_from_confusion(np.asarray(result.confusion))

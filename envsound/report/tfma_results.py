"""Reading the Evaluator's TFMA output: the candidate model's overall metrics and confusion."""

import math

import numpy as np

from envsound.report import scores as scores_lib

MACRO_F1 = 'macro_average: true\n_f1_score'  # TFMA's name of the macro-averaged F1
ACCURACY = 'sparse_categorical_accuracy'


def confusion_from_plot(plot: dict, num_classes: int) -> np.ndarray:
  """[true, predicted] counts from TFMA's MultiClassConfusionMatrixPlot (JSON form).

  Proto defaults are omitted in TFMA's JSON: a missing class id is class 0. Entries
  without a prediction (class id -1) are left out.
  """
  matrix = np.zeros((num_classes, num_classes), np.int64)
  matrices = plot.get('multiClassConfusionMatrixAtThresholds', {}).get('matrices', [])
  for entry in (matrices[0].get('entries', []) if matrices else []):
    true, predicted = entry.get('actualClassId', 0), entry.get('predictedClassId', 0)
    if 0 <= true < num_classes and 0 <= predicted < num_classes:
      matrix[true, predicted] += round(entry.get('numWeightedExamples', 0))
  return matrix


def load_candidate_result(uri: str):
  """``tfma.load_eval_result`` of the evaluated (candidate) model.

  With a baseline model TFMA keys metrics and plots by model name, and plots come back
  empty unless the candidate's name is given.
  """
  import tensorflow_model_analysis as tfma  # pylint: disable=import-outside-toplevel
  result = tfma.load_eval_result(uri)
  specs = result.config.model_specs if result.config else []
  if len(specs) > 1:
    result = tfma.load_eval_result(uri, model_name=next(s.name for s in specs
                                                        if not s.is_baseline))
  return result


def scores_from_eval_result(result, num_classes: int) -> scores_lib.Scores:
  """Overall-slice scores from ``tfma.load_eval_result``.

  Per-class metrics come from the confusion matrix (top-1 predictions, as accuracy): the
  Evaluator's per-class Recall/Precision/F1 binarise each class at probability 0.5.
  """
  metrics = dict(result.slicing_metrics)[()]['']['']
  value = lambda key: float(metrics.get(key, {}).get('doubleValue', math.nan))
  plot = dict(result.plots).get((), {}).get('', {}).get('', {})
  scores = scores_lib.scores_from_confusion(confusion_from_plot(plot, num_classes),
                                            value(MACRO_F1))
  scores.accuracy = value(ACCURACY)  # the Evaluator's own; equal to the matrix's
  return scores

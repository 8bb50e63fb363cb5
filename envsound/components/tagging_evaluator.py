"""The Evaluator of a multi-label (AudioSet tagging) model, in place of TFMA.

TFMA's multi-label support scores per-class binarised metrics; the literature's figures are
per-class AP and ROC AUC of the scores, averaged over classes (multilabel_metrics). So this
component runs the exported model's serving signature over the ExampleGen's eval split
(model_scoring.predict_tags: every clip against the multi-hot vector of its AudioSet
``labels``), writes ``tagging.json`` into its ModelEvaluation (mAP, mean AUC, d', the
classes each mean covers, per-class AP) with every clip's scores (eval_scores.py, for the
report's paired comparison with the reference) and blesses the model unless its mAP is
below the last blessed model's (the baseline, scored the same way on the same clips). Like
TFX's Evaluator its blessing names the model (``current_model_id``); the quality gate
decides what is pushed.
"""

import dataclasses
import json
import math
import os
from typing import Dict

from tfx.v1.dsl.components import InputArtifact, OutputArtifact, component
from tfx.types import standard_artifacts

RESULT_FILE = 'tagging.json'
BLESSED_KEY = 'blessed'


def summarise(labels, scores) -> Dict[str, object]:
  """multilabel_metrics.TaggingScores' fields of ``scores`` against ``labels``, ``clips`` and
  ``average_precision`` (per class, None where a class has no positive)."""
  from envsound.components import multilabel_metrics  # pylint: disable=import-outside-toplevel
  result = dataclasses.asdict(multilabel_metrics.tagging_scores(labels, scores))
  per_class = multilabel_metrics.average_precision(labels, scores)
  return {**result, 'clips': int(len(labels)),
          'average_precision': [None if math.isnan(v) else float(v) for v in per_class]}


def score_model(model_dir: str, file_pattern: str) -> Dict[str, object]:
  """:func:`summarise` of the SavedModel at ``model_dir`` on the records at
  ``file_pattern``."""
  from envsound.components import model_scoring  # pylint: disable=import-outside-toplevel
  return summarise(*model_scoring.predict_tags(model_dir, file_pattern))


def read_scores(evaluation_uri: str) -> Dict[str, object]:
  """``tagging.json`` of a TaggingEvaluator's ModelEvaluation ({} where there is none)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  path = os.path.join(evaluation_uri, RESULT_FILE)
  if not tf.io.gfile.exists(path):
    return {}
  with tf.io.gfile.GFile(path) as f:
    return json.load(f)


def _eval_files(examples_uri: str) -> str:
  return os.path.join(examples_uri, 'Split-eval', '*')


@component
def TaggingEvaluator(examples: InputArtifact[standard_artifacts.Examples],  # pylint: disable=invalid-name
                     model: InputArtifact[standard_artifacts.Model],
                     evaluation: OutputArtifact[standard_artifacts.ModelEvaluation],
                     blessing: OutputArtifact[standard_artifacts.ModelBlessing],
                     baseline_model: InputArtifact[standard_artifacts.Model] = None):
  """Scores ``model`` (and ``baseline_model``, if any) on the eval split; blesses it unless
  its mAP is below the baseline's."""
  # pylint: disable=import-outside-toplevel
  import tensorflow as tf
  from envsound.core import atomic
  from tfx.utils import path_utils
  from envsound.components import eval_scores, model_scoring
  files = _eval_files(examples.uri)
  labels, scores = model_scoring.predict_tags(path_utils.serving_model_path(model.uri), files)
  result = summarise(labels, scores)
  baseline = (score_model(path_utils.serving_model_path(baseline_model.uri), files)
              if baseline_model is not None else None)
  result['baseline_map'] = baseline['mean_average_precision'] if baseline else None
  blessed = baseline is None or result['mean_average_precision'] >= result['baseline_map']
  tf.io.gfile.makedirs(evaluation.uri)
  with atomic.atomic_file(os.path.join(evaluation.uri, RESULT_FILE), 'w') as f:
    json.dump(result, f, indent=1)
  eval_scores.write(evaluation.uri, labels, scores)
  blessing.set_float_custom_property('map', result['mean_average_precision'])
  blessing.set_float_custom_property('mean_auc', result['mean_auc'])
  blessing.set_float_custom_property('d_prime', result['d_prime'])
  blessing.set_int_custom_property(BLESSED_KEY, int(blessed))
  blessing.set_string_custom_property('current_model', model.uri)
  blessing.set_int_custom_property('current_model_id', model.id)
  tf.io.gfile.makedirs(blessing.uri)
  with tf.io.gfile.GFile(os.path.join(blessing.uri, 'BLESSED' if blessed else 'NOT_BLESSED'),
                         'w') as f:
    f.write('')

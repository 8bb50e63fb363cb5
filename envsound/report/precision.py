"""Per-environment average precision and per-clip correctness of each evaluated model.

Accuracy and F1 come from the Evaluator's top-1 confusion matrices; average precision needs
each clip's probabilities, so the evaluated SavedModel (the Trainer's Model artifact, the one
the Evaluator scored and the Pusher copies) runs over the eval split its training set's
ExampleGen wrote (components.model_scoring). The same pass records whether each clip's top
class is right, by clip id, so the ranking can pair two models on their shared clips.
"""

import os
from typing import List, Sequence

import numpy as np
import tensorflow as tf

from envsound.components import audioset_example_gen, model_scoring, multilabel_metrics
from envsound.report import runs


def serving_model_dir(model_uri: str) -> str:
  """The SavedModel folder inside a TFX Model artifact."""
  from tfx.utils import path_utils  # pylint: disable=import-outside-toplevel
  return path_utils.serving_model_path(model_uri)


def eval_pattern(examples_uri: str) -> str:
  """The glob of an ExampleGen artifact's eval split records."""
  return os.path.join(examples_uri, f'Split-{audioset_example_gen.EVAL}', '*')


def add_average_precision(record: runs.RunRecord, class_names: Sequence[str]) -> List[str]:
  """Sets ``scores.average_precision`` and ``scores.clip_correct`` of every evaluated
  approach of ``record``.

  Returns:
    One line per approach that could not be scored, naming the model or records and why.
  """
  problems = []
  for result in record.results:
    examples = record.examples.get(result.approach.training_set)
    if result.scores is None or result.model_uri is None or examples is None:
      continue
    try:
      ids, labels, probabilities = model_scoring.predict_clips(
          serving_model_dir(result.model_uri), eval_pattern(examples.uri))
    except (OSError, ValueError, tf.errors.OpError) as e:
      problems.append(f'{result.approach.name}: average precision not scored '
                      f'({type(e).__name__}: {str(e).splitlines()[0]})')
      continue
    ap = multilabel_metrics.per_class_average_precision(labels, probabilities, class_names)
    result.scores.average_precision = np.array([ap[name] for name in class_names])
    result.scores.clip_correct = dict(zip(ids, probabilities.argmax(axis=1) == labels))
  return problems

"""The quality gate: which models reach the serving directory, and why.

``ReferenceGen`` fits the reference (``components.reference``) on one training set's
ExampleGen output. ``QualityGate`` then blesses a model only if the Evaluator blessed it
(not below the last blessed model of its approach) and its validation accuracy beats both
the reference and the majority-class rate; with ``min_accuracy`` set, that absolute
threshold replaces the two comparisons. Under a multi-label target (core/targets.py) the
figure is the eval split's mAP (tagging_evaluator.py), the bars the linear reference's and
the label prior's mAP (tagging_reference.py), and ``min_map`` the absolute threshold. Its ModelBlessing feeds the Pusher and the next
run's baseline, and carries the decision as custom properties (``reason`` in words).
"""

import dataclasses
import math
from typing import Optional, Sequence, Tuple

from tfx import types
from tfx.v1.dsl.components import InputArtifact, OutputArtifact, Parameter, component
from tfx.types import standard_artifacts

from envsound.components import reference as reference_lib
from envsound.components import eval_scores, tagging_evaluator, tagging_reference
from envsound.core import targets

ACCURACY_METRIC = 'sparse_categorical_accuracy'
REASON_KEY = 'reason'
BLESSED_KEY = 'blessed'  # what TFX's Pusher and LatestBlessedModelStrategy read


class Reference(types.Artifact):
  """The reference's scores on one training set (``reference.json``)."""
  TYPE_NAME = 'envsound.Reference'  # KFP's schema-title form: <namespace>.<Type>


@dataclasses.dataclass(frozen=True)
class Decision:
  blessed: bool
  reason: str


def _decide(value: float, metric: str, flag: str, evaluator_blessed: bool,
            bars: Sequence[Tuple[str, float]], minimum: Optional[float]) -> Decision:
  """Blessed when ``value`` beats every bar (or reaches ``minimum`` instead) and the
  Evaluator blessed the model."""
  score = f'{metric} {value:.3f}'
  if math.isnan(value):
    return Decision(False, f'not pushed: the Evaluator reported no {metric}')
  if minimum is not None:
    if value < minimum:
      return Decision(False, f'not pushed: {score}, below {flag} {minimum:.3f}')
    if not evaluator_blessed:
      return Decision(False, f'not pushed: {score}, below the last blessed model')
    return Decision(True, f'pushed: {score}, at least {flag} {minimum:.3f}')
  bar = ', '.join(f'{name} {bar_value:.3f}' for name, bar_value in bars)
  if any(value <= bar_value for _, bar_value in bars):
    return Decision(False, f'not pushed: {score}, {bar}')
  if not evaluator_blessed:
    return Decision(False, f'not pushed: {score} beats the {bar}, but is below the last '
                           'blessed model')
  return Decision(True, f'pushed: {score} beats the {bar}')


def decide(accuracy: float, evaluator_blessed: bool, reference: reference_lib.ReferenceResult,
           min_accuracy: Optional[float] = None) -> Decision:
  """The gate's rule for a single-label target (see the module docstring)."""
  return _decide(accuracy, 'accuracy', '--min-accuracy', evaluator_blessed,
                 [('reference', reference.accuracy),
                  ('majority class', reference.majority_rate)], min_accuracy)


def decide_tagging(mean_ap: float, evaluator_blessed: bool,
                   reference: tagging_reference.TaggingReference,
                   min_map: Optional[float] = None) -> Decision:
  """The gate's rule for a multi-label target: eval mAP against the linear reference's and
  the label prior's (or ``min_map``)."""
  return _decide(mean_ap, 'mAP', '--min-map', evaluator_blessed,
                 [('reference', reference.mean_average_precision),
                  ('label prior', reference.prior_map)], min_map)


def candidate_accuracy(evaluation_uri: str) -> float:
  """The evaluated model's overall accuracy from the Evaluator's metrics (NaN if absent)."""
  import tensorflow_model_analysis as tfma  # pylint: disable=import-outside-toplevel
  for metrics in tfma.load_metrics(evaluation_uri):
    if metrics.slice_key.single_slice_keys:
      continue
    for item in metrics.metric_keys_and_values:
      key = item.key
      if key.name == ACCURACY_METRIC and not key.is_diff and not key.model_name.endswith(
          'baseline'):
        return float(item.value.double_value.value)
  return math.nan


@component
def ReferenceGen(examples: InputArtifact[standard_artifacts.Examples],  # pylint: disable=invalid-name
                 reference: OutputArtifact[Reference], num_classes: Parameter[int],
                 target: Parameter[str] = targets.DEFAULT):
  """Fits the target's reference on the train split and scores it on the eval split (a
  multi-label target's also keeps every eval clip's scores, eval_scores.py)."""
  from envsound.components import audioset_example_gen  # pylint: disable=import-outside-toplevel
  train, evaluation = audioset_example_gen.TRAIN, audioset_example_gen.EVAL
  if targets.by_name(target).multi_label:
    x_eval, y_eval = tagging_reference.read_pooled_tags(examples.uri, evaluation, num_classes)
    tags, scores = tagging_reference.fit(
        *tagging_reference.read_pooled_tags(examples.uri, train, num_classes), x_eval, y_eval)
    tags.write(reference.uri)
    eval_scores.write(reference.uri, y_eval, scores)
    reference.set_float_custom_property('map', tags.mean_average_precision)
    reference.set_float_custom_property('prior_map', tags.prior_map)
    return
  result = reference_lib.fit(*reference_lib.read_pooled(examples.uri, train),
                             *reference_lib.read_pooled(examples.uri, evaluation), num_classes)
  result.write(reference.uri)
  reference.set_float_custom_property('accuracy', result.accuracy)
  reference.set_float_custom_property('majority_rate', result.majority_rate)


def _decision(target: targets.Target, evaluation_uri: str, reference_uri: str,
              evaluator_blessed: bool, minimum: Optional[float]):
  """(decision, the candidate's figure, {property: the bars' figures}) under ``target``."""
  if target.multi_label:
    ref = tagging_reference.TaggingReference.read(reference_uri)
    value = tagging_evaluator.read_scores(evaluation_uri).get('mean_average_precision',
                                                              math.nan)
    return (decide_tagging(value, evaluator_blessed, ref, minimum), value,
            {'reference_map': ref.mean_average_precision, 'prior_map': ref.prior_map})
  result = reference_lib.ReferenceResult.read(reference_uri)
  value = candidate_accuracy(evaluation_uri)
  return (decide(value, evaluator_blessed, result, minimum), value,
          {'reference_accuracy': result.accuracy, 'majority_rate': result.majority_rate})


@component
def QualityGate(model: InputArtifact[standard_artifacts.Model],  # pylint: disable=invalid-name
                evaluation: InputArtifact[standard_artifacts.ModelEvaluation],
                evaluator_blessing: InputArtifact[standard_artifacts.ModelBlessing],
                reference: InputArtifact[Reference],
                blessing: OutputArtifact[standard_artifacts.ModelBlessing],
                min_accuracy: Parameter[float] = -1.0,
                target: Parameter[str] = targets.DEFAULT):
  """Blesses ``model`` by the gate's rule; ``min_accuracy`` (for a multi-label target: the
  minimum mAP) < 0 means not set."""
  import os  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  spec = targets.by_name(target)
  decision, value, bars = _decision(
      spec, evaluation.uri, reference.uri,
      evaluator_blessing.get_int_custom_property(BLESSED_KEY) == 1,
      None if min_accuracy < 0 else min_accuracy)
  blessing.set_int_custom_property(BLESSED_KEY, int(decision.blessed))
  blessing.set_string_custom_property('current_model', model.uri)
  blessing.set_int_custom_property('current_model_id', model.id)
  blessing.set_string_custom_property(REASON_KEY, decision.reason)
  blessing.set_float_custom_property('map' if spec.multi_label else 'accuracy', value)
  for key, bar_value in bars.items():
    blessing.set_float_custom_property(key, bar_value)
  tf.io.gfile.makedirs(blessing.uri)
  marker = 'BLESSED' if decision.blessed else 'NOT_BLESSED'
  with tf.io.gfile.GFile(os.path.join(blessing.uri, marker), 'w') as f:
    f.write(decision.reason + '\n')

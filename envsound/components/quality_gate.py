"""The quality gate: which models reach the serving directory, and why.

``ReferenceGen`` fits the reference (``components.reference``) on one training set's
ExampleGen output. ``QualityGate`` then blesses a model only if the Evaluator blessed it
(not below the last blessed model of its approach) and its validation accuracy beats both
the reference and the majority-class rate; with ``min_accuracy`` set, that absolute
threshold replaces the two comparisons. Its ModelBlessing feeds the Pusher and the next
run's baseline, and carries the decision as custom properties (``reason`` in words).
"""

import dataclasses
import math
from typing import Optional

from tfx import types
from tfx.v1.dsl.components import InputArtifact, OutputArtifact, Parameter, component
from tfx.types import standard_artifacts

from envsound.components import reference as reference_lib

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


def decide(accuracy: float, evaluator_blessed: bool, reference: reference_lib.ReferenceResult,
           min_accuracy: Optional[float] = None) -> Decision:
  """The gate's rule (see the module docstring)."""
  acc = f'accuracy {accuracy:.3f}'
  if math.isnan(accuracy):
    return Decision(False, 'not pushed: the Evaluator reported no accuracy')
  if min_accuracy is not None:
    if accuracy < min_accuracy:
      return Decision(False, f'not pushed: {acc}, below --min-accuracy {min_accuracy:.3f}')
    if not evaluator_blessed:
      return Decision(False, f'not pushed: {acc}, below the last blessed model')
    return Decision(True, f'pushed: {acc}, at least --min-accuracy {min_accuracy:.3f}')
  bar = (f'reference {reference.accuracy:.3f}, majority class {reference.majority_rate:.3f}')
  if accuracy <= reference.accuracy or accuracy <= reference.majority_rate:
    return Decision(False, f'not pushed: {acc}, {bar}')
  if not evaluator_blessed:
    return Decision(False, f'not pushed: {acc} beats the {bar}, but is below the last '
                           'blessed model')
  return Decision(True, f'pushed: {acc} beats the {bar}')


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
                 reference: OutputArtifact[Reference], num_classes: Parameter[int]):
  """Fits the reference on the train split and scores it on the eval split."""
  from envsound.components import audioset_example_gen  # pylint: disable=import-outside-toplevel
  result = reference_lib.fit(
      *reference_lib.read_pooled(examples.uri, audioset_example_gen.TRAIN),
      *reference_lib.read_pooled(examples.uri, audioset_example_gen.EVAL), num_classes)
  result.write(reference.uri)
  reference.set_float_custom_property('accuracy', result.accuracy)
  reference.set_float_custom_property('majority_rate', result.majority_rate)


@component
def QualityGate(model: InputArtifact[standard_artifacts.Model],  # pylint: disable=invalid-name
                evaluation: InputArtifact[standard_artifacts.ModelEvaluation],
                evaluator_blessing: InputArtifact[standard_artifacts.ModelBlessing],
                reference: InputArtifact[Reference],
                blessing: OutputArtifact[standard_artifacts.ModelBlessing],
                min_accuracy: Parameter[float] = -1.0):
  """Blesses ``model`` by the gate's rule; ``min_accuracy`` < 0 means not set."""
  import os  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  result = reference_lib.ReferenceResult.read(reference.uri)
  accuracy = candidate_accuracy(evaluation.uri)
  decision = decide(accuracy, evaluator_blessing.get_int_custom_property(BLESSED_KEY) == 1,
                    result, None if min_accuracy < 0 else min_accuracy)
  blessing.set_int_custom_property(BLESSED_KEY, int(decision.blessed))
  blessing.set_string_custom_property('current_model', model.uri)
  blessing.set_int_custom_property('current_model_id', model.id)
  blessing.set_string_custom_property(REASON_KEY, decision.reason)
  blessing.set_float_custom_property('accuracy', accuracy)
  blessing.set_float_custom_property('reference_accuracy', result.accuracy)
  blessing.set_float_custom_property('majority_rate', result.majority_rate)
  tf.io.gfile.makedirs(blessing.uri)
  marker = 'BLESSED' if decision.blessed else 'NOT_BLESSED'
  with tf.io.gfile.GFile(os.path.join(blessing.uri, marker), 'w') as f:
    f.write(decision.reason + '\n')

"""The Evaluator's TFMA configuration, shared by every approach.

The Evaluator feeds raw SequenceExamples to ``serving_default``; the label comes from the
model's ``transform_features`` signature (``LABEL_XF``, the environment index), so the
evaluation uses the very Transform graph the model was trained with.
Metrics: accuracy, macro-averaged F1 (and precision/recall), per-class recall, precision
and F1 (one class id each), and a multi-class confusion matrix; overall and sliced by the
true environment. Blessing: accuracy at least ``min_accuracy`` and not below the last
blessed model of the same approach (the baseline the pipeline resolves).
"""

from typing import Sequence

import tensorflow_model_analysis as tfma

from envsound.core import features

ACCURACY = 'sparse_categorical_accuracy'
PER_CLASS_METRICS = ('Recall', 'Precision', 'F1Score')


def build_eval_config(class_names: Sequence[str], min_accuracy: float) -> tfma.EvalConfig:
  """Returns the EvalConfig of an environment classifier.

  Args:
    class_names: environment ids in class index order (gives the number of classes).
    min_accuracy: lowest accuracy that blesses a model.

  Returns:
    A tfma.EvalConfig for TFX's Evaluator (with or without a baseline model).
  """
  accuracy_threshold = tfma.MetricThreshold(
      value_threshold=tfma.GenericValueThreshold(lower_bound={'value': min_accuracy}),
      change_threshold=tfma.GenericChangeThreshold(
          direction=tfma.MetricDirection.HIGHER_IS_BETTER, absolute={'value': -1e-10}))
  class_ids = list(range(len(class_names)))
  return tfma.EvalConfig(
      model_specs=[tfma.ModelSpec(
          signature_name=features.SERVING_SIGNATURE,
          preprocessing_function_names=[features.TRANSFORM_SIGNATURE],
          label_key=features.LABEL_XF,
          prediction_key=features.PROBABILITIES)],
      slicing_specs=[tfma.SlicingSpec(),
                     tfma.SlicingSpec(feature_keys=[features.LABEL_XF])],
      metrics_specs=[
          tfma.MetricsSpec(metrics=[
              tfma.MetricConfig(class_name='ExampleCount'),
              tfma.MetricConfig(class_name='SparseCategoricalAccuracy',
                                threshold=accuracy_threshold),
              tfma.MetricConfig(class_name='MultiClassConfusionMatrixPlot'),
          ]),
          tfma.MetricsSpec(
              metrics=[tfma.MetricConfig(class_name=m) for m in PER_CLASS_METRICS],
              binarize=tfma.BinarizationOptions(class_ids={'values': class_ids}),
              aggregate=tfma.AggregationOptions(
                  macro_average=True, class_weights={k: 1.0 for k in class_ids})),
      ])

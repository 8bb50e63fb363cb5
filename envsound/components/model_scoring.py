"""Scores an exported model on raw AudioSet-format records: per-environment average precision,
or, for a multi-label model, the literature's tagging scores.

The report's accuracy and F1 come from the Evaluator's confusion matrices (top-1 decisions);
average precision needs each clip's probabilities, so this runs the SavedModel's serving
signature (serialized SequenceExamples in, as the Evaluator feeds it) over an ExampleGen
split and scores them with multilabel_metrics. A multi-label model's clips are scored against
the multi-hot vector of their AudioSet ``labels`` (:func:`predict_tags`).
"""

from typing import Dict, Sequence, Tuple

import numpy as np
import tensorflow as tf

from envsound.components import multilabel_metrics, preprocessing
from envsound.core import features

_BATCH = 512


def _files(file_pattern: str):
  files = sorted(tf.io.gfile.glob(file_pattern))
  if not files:
    raise FileNotFoundError(f'no records match {file_pattern}')
  return files


def _scored_batches(model_dir: str, file_pattern: str, context_spec):
  """Yields ``(records, their parsed context, the serving signature)`` for each batch of
  records; ``context_spec`` names the context features to parse."""
  files = _files(file_pattern)
  serve = tf.saved_model.load(model_dir).signatures[features.SERVING_SIGNATURE]
  dataset = tf.data.TFRecordDataset(
      files, compression_type='GZIP' if files[0].endswith('.gz') else '').batch(_BATCH)
  for batch in dataset:
    context, _, _ = tf.io.parse_sequence_example(batch, context_features=context_spec)
    yield batch, context, lambda records: serve(**{features.SERIALIZED_INPUT: records})


def predict_clips(model_dir: str, file_pattern: str) -> Tuple[np.ndarray, np.ndarray,
                                                             np.ndarray]:
  """Clip ids, environments and probabilities of the records in ``file_pattern`` that have one.

  Args:
    model_dir: an envsound SavedModel (``<Trainer model>/Format-Serving``).
    file_pattern: glob of SequenceExample TFRecords with the ``environment`` context
      feature (ExampleGen's ``<examples>/Split-eval/*``; gzip when named ``.gz``).

  Returns:
    ``(clip ids [clips] ("<video_id>:<start seconds>", preprocessing.clip_ids), labels
    [clips], probabilities [clips, classes])``.
  """
  spec = {key: tf.io.VarLenFeature(dtype) for key, dtype in (
      (features.ENVIRONMENT_KEY, tf.int64), (features.VIDEO_ID_KEY, tf.string),
      (features.START_TIME_KEY, tf.float32))}
  ids, labels, probabilities = [np.zeros(0, object)], [np.zeros(0, np.int64)], []
  for batch, context, serve in _scored_batches(model_dir, file_pattern, spec):
    env = preprocessing.first_or_default(context[features.ENVIRONMENT_KEY]).numpy()
    keep = env >= 0
    if keep.any():
      clip = preprocessing.clip_ids(context[features.VIDEO_ID_KEY],
                                    context[features.START_TIME_KEY]).numpy()
      ids.append(np.array([c.decode() for c in clip[keep]], object))
      labels.append(env[keep])
      probabilities.append(serve(tf.boolean_mask(batch, keep))[features.PROBABILITIES].numpy())
  if not probabilities:
    raise ValueError(f'{file_pattern}: no record has an {features.ENVIRONMENT_KEY!r} feature')
  return np.concatenate(ids), np.concatenate(labels), np.concatenate(probabilities)


def predict_split(model_dir: str, file_pattern: str) -> Tuple[np.ndarray, np.ndarray]:
  """``(labels, probabilities)`` of :func:`predict_clips`."""
  _, labels, probabilities = predict_clips(model_dir, file_pattern)
  return labels, probabilities


def predict_tags(model_dir: str, file_pattern: str) -> Tuple[np.ndarray, np.ndarray]:
  """Multi-hot AudioSet labels and the model's class scores of every record.

  Returns:
    ``(labels int64 [clips, classes], scores [clips, classes])``, classes being the model's
    outputs (a label index beyond them is ignored).

  Raises:
    FileNotFoundError: no file matches.
    ValueError: the files hold no record.
  """
  spec = {features.LABELS_KEY: tf.io.RaggedFeature(tf.int64, row_splits_dtype=tf.int64)}
  labels, scores = [], []
  for batch, context, serve in _scored_batches(model_dir, file_pattern, spec):
    out = serve(batch)[features.PROBABILITIES].numpy()
    tags = context[features.LABELS_KEY]
    labels.append(multilabel_metrics.multi_hot(tags.value_rowids().numpy(),
                                               tags.flat_values.numpy(), *out.shape))
    scores.append(out)
  if not scores:
    raise ValueError(f'{file_pattern}: no records')
  return np.concatenate(labels), np.concatenate(scores)


def environment_average_precision(model_dir: str, file_pattern: str,
                                  class_names: Sequence[str]) -> Dict[str, float]:
  """``{environment: one-vs-rest average precision}`` of a model on a split (NaN: no clips)."""
  labels, probabilities = predict_split(model_dir, file_pattern)
  return multilabel_metrics.per_class_average_precision(labels, probabilities, class_names)

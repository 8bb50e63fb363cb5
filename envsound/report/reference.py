"""The reference model: logistic regression on each clip's mean-pooled embedding."""

import os
from typing import Tuple

import numpy as np

from envsound.core import features
from envsound.report import scores as scores_lib

REFERENCE_TITLE = 'Reference: logistic regression on mean-pooled embeddings'


def pool_embeddings(frames: np.ndarray, mask: np.ndarray) -> np.ndarray:
  """Mean of each clip's dequantised frames, pad/absent frames masked out.

  Args:
    frames: uint8 [clips, frames, 128] quantised embeddings.
    mask: [clips, frames], true/1 for real frames.

  Returns:
    float32 [clips, 128]; zeros for a clip without frames.
  """
  x = features.dequantize(frames.astype(np.float32))
  mask = mask.astype(np.float32)[..., None]
  return ((x * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)).astype(np.float32)


def read_pooled(examples_uri: str, split: str) -> Tuple[np.ndarray, np.ndarray]:
  """Mean-pooled embeddings and environments of an ExampleGen split (unlabelled dropped)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  files = sorted(tf.io.gfile.glob(os.path.join(examples_uri, f'Split-{split}', '*')))
  if not files:
    raise FileNotFoundError(f'no records in {examples_uri}/Split-{split}')
  compression = 'GZIP' if files[0].endswith('.gz') else ''
  xs, ys = [np.zeros((0, features.EMBEDDING_DIM), np.float32)], [np.zeros(0, np.int64)]
  for batch in tf.data.TFRecordDataset(files, compression_type=compression).batch(1024):
    context, sequence, lengths = tf.io.parse_sequence_example(
        batch,
        context_features={features.ENVIRONMENT_KEY: tf.io.FixedLenFeature(
            [], tf.int64, default_value=-1)},
        sequence_features={features.AUDIO_EMBEDDING_KEY: tf.io.FixedLenSequenceFeature(
            [], tf.string, allow_missing=True)})
    frames = tf.io.decode_raw(sequence[features.AUDIO_EMBEDDING_KEY], tf.uint8,
                              fixed_length=features.EMBEDDING_DIM)
    mask = tf.sequence_mask(lengths[features.AUDIO_EMBEDDING_KEY], tf.shape(frames)[1])
    xs.append(pool_embeddings(frames.numpy(), mask.numpy()))
    ys.append(context[features.ENVIRONMENT_KEY].numpy())
  x, y = np.concatenate(xs), np.concatenate(ys)
  return x[y >= 0], y[y >= 0]


def fit_reference(x_train: np.ndarray, y_train: np.ndarray, x_eval: np.ndarray,
                  y_eval: np.ndarray, num_classes: int) -> scores_lib.Scores:
  """Trains the reference (standardised multinomial logistic regression) and scores it.

  Raises:
    ValueError: the training set holds fewer than two classes.
  """
  # pylint: disable=import-outside-toplevel
  from sklearn.linear_model import LogisticRegression
  from sklearn.pipeline import make_pipeline
  from sklearn.preprocessing import StandardScaler
  model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
  model.fit(x_train, y_train)
  return scores_lib.scores_from_predictions(y_eval, model.predict(x_eval), num_classes)

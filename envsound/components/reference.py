"""The simple reference every approach must beat: a linear model on pooled embeddings.

Features: the mean and the standard deviation over each clip's real frames of its
dequantised VGGish embedding (256 values). Model: standardised multinomial logistic
regression whose L2 strength is chosen by cross-validation on the training split only;
at most ``MAX_TRAIN_CLIPS`` training clips (a stratified subset) keep it quick at release
scale, far more than a 2,570-parameter model needs. The majority class of the training
split gives the rate a constant guess reaches on the validation split. Recorded on the
validation split: accuracy, macro-F1, the confusion matrix and each class's one-vs-rest
average precision of the predicted probabilities.
"""

import dataclasses
import json
import os
import warnings
from typing import ClassVar, List, Optional, Tuple

import numpy as np

from envsound.components import multilabel_metrics
from envsound.core import features, records

MAX_TRAIN_CLIPS = 20_000
C_GRID = (0.001, 0.01, 0.1, 1.0, 10.0)
CV_FOLDS = 3
RESULT_FILE = 'reference.json'


class JsonResult:
  """A dataclass written to and read from ``<folder>/<RESULT_FILE>`` as JSON (atomically)."""
  RESULT_FILE: ClassVar[str]

  def write(self, folder: str) -> str:
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from envsound.core import atomic  # pylint: disable=import-outside-toplevel
    path = os.path.join(folder, self.RESULT_FILE)
    tf.io.gfile.makedirs(folder)
    with atomic.atomic_file(path, 'w') as f:
      json.dump(dataclasses.asdict(self), f, indent=1)
    return path

  @classmethod
  def read(cls, folder: str):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    with tf.io.gfile.GFile(os.path.join(folder, cls.RESULT_FILE)) as f:
      return cls(**json.load(f))


@dataclasses.dataclass
class ReferenceResult(JsonResult):
  """How the reference and the majority class score on the validation split."""
  RESULT_FILE: ClassVar[str] = RESULT_FILE
  accuracy: float
  macro_f1: float
  majority_rate: float   # validation accuracy of always predicting the training majority
  majority_class: int
  train_clips: int
  eval_clips: int
  c: float               # the L2 inverse strength cross-validation chose
  confusion: List[List[int]]  # [true, predicted] on the validation split
  # one-vs-rest average precision per class on the validation split (NaN: no clips)
  average_precision: Optional[List[float]] = None


def pool(frames: np.ndarray, lengths: np.ndarray) -> np.ndarray:
  """Mean and standard deviation of each clip's dequantised real frames.

  Args:
    frames: uint8 [clips, max_frames, 128]; frames past a clip's length are padding.
    lengths: [clips] real frames per clip.

  Returns:
    float32 [clips, 256]: the mean, then the standard deviation; zeros for a clip without
    frames.
  """
  return pool_frames(features.dequantize(frames.astype(np.float32)), lengths)


def pool_frames(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
  """:func:`pool` of float frames ``x`` [clips, max_frames, dims] (e.g. Transform's)."""
  mask = (np.arange(x.shape[1])[None, :] < np.asarray(lengths)[:, None])[..., None]
  count = np.maximum(mask.sum(axis=1), 1)
  mean = (x * mask).sum(axis=1) / count
  var = (((x - mean[:, None, :]) ** 2) * mask).sum(axis=1) / count
  return np.concatenate([mean, np.sqrt(var)], axis=1).astype(np.float32)


def pooled_batches(examples_uri: str, split: str, context_key: str):
  """Yields ``(pooled features [b, 256], context[context_key])`` per batch of an ExampleGen
  split (the context feature as ``records.parse_spec`` parses it)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  files = sorted(tf.io.gfile.glob(os.path.join(examples_uri, f'Split-{split}', '*')))
  if not files:
    raise FileNotFoundError(f'no records in {examples_uri}/Split-{split}')
  compression = 'GZIP' if files[0].endswith('.gz') else ''
  context_spec, sequence_spec = records.parse_spec(context_key)
  for batch in tf.data.TFRecordDataset(files, compression_type=compression).batch(1024):
    context, sequence, _ = tf.io.parse_sequence_example(batch, context_spec, sequence_spec)
    raw = sequence[features.AUDIO_EMBEDDING_KEY]
    frames = tf.io.decode_raw(raw.flat_values, tf.uint8, fixed_length=features.EMBEDDING_DIM)
    clips = tf.RaggedTensor.from_row_splits(frames, raw.row_splits)
    yield pool(clips.to_tensor().numpy(), clips.row_lengths().numpy()), context[context_key]


def read_pooled(examples_uri: str, split: str) -> Tuple[np.ndarray, np.ndarray]:
  """Pooled features and environments of an ExampleGen split (clips without one dropped)."""
  xs = [np.zeros((0, 2 * features.EMBEDDING_DIM), np.float32)]
  ys = [np.zeros(0, np.int64)]
  for x, env in pooled_batches(examples_uri, split, features.ENVIRONMENT_KEY):
    xs.append(x)
    ys.append(env.numpy())
  x, y = np.concatenate(xs), np.concatenate(ys)
  return x[y >= 0], y[y >= 0]


def _subset(x: np.ndarray, y: np.ndarray, limit: int, seed: int = 0):
  if len(y) <= limit:
    return x, y
  from sklearn.model_selection import train_test_split  # pylint: disable=import-outside-toplevel
  x, _, y, _ = train_test_split(x, y, train_size=limit, stratify=y, random_state=seed)
  return x, y


def fit_model(x_train: np.ndarray, y_train: np.ndarray):
  """The reference's scikit-learn pipeline (standardisation, L2 logistic regression with C
  chosen by stratified cross-validation on ``x_train``), fitted.

  Raises:
    ValueError: the training split holds fewer than two classes.
  """
  # pylint: disable=import-outside-toplevel
  from sklearn.linear_model import LogisticRegression
  from sklearn.model_selection import GridSearchCV, StratifiedKFold
  from sklearn.pipeline import make_pipeline
  from sklearn.preprocessing import StandardScaler
  if len(np.unique(y_train)) < 2:
    raise ValueError(f'the training split holds {len(np.unique(y_train))} class(es); the '
                     'reference needs two or more')
  x_fit, y_fit = _subset(x_train, y_train, MAX_TRAIN_CLIPS)
  search = GridSearchCV(
      make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
      {'logisticregression__C': list(C_GRID)},
      cv=StratifiedKFold(CV_FOLDS, shuffle=True, random_state=0), scoring='accuracy')
  with warnings.catch_warnings():  # rare classes: fewer members than folds is fine here
    warnings.simplefilter('ignore', UserWarning)
    search.fit(x_fit, y_fit)
  return search.best_estimator_


def fit(x_train: np.ndarray, y_train: np.ndarray, x_eval: np.ndarray, y_eval: np.ndarray,
        num_classes: int) -> ReferenceResult:
  """Fits the reference (:func:`fit_model`) on the training split and scores it on the
  validation split.

  Raises:
    ValueError: the training split holds fewer than two classes.
  """
  # pylint: disable=import-outside-toplevel
  from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
  model = fit_model(x_train, y_train)
  predicted = model.predict(x_eval)
  probabilities = np.zeros((len(y_eval), num_classes))
  probabilities[:, model.classes_] = model.predict_proba(x_eval)
  majority = int(np.bincount(y_train).argmax())
  labels = list(range(num_classes))
  return ReferenceResult(
      accuracy=float(accuracy_score(y_eval, predicted)),
      macro_f1=float(f1_score(y_eval, predicted, labels=sorted(set(y_eval)), average='macro',
                              zero_division=0)),
      majority_rate=float(np.mean(y_eval == majority)),
      majority_class=majority, train_clips=int(len(y_train)), eval_clips=int(len(y_eval)),
      c=float(model[-1].C),
      confusion=confusion_matrix(y_eval, predicted, labels=labels).tolist(),
      average_precision=multilabel_metrics.average_precision(
          np.eye(num_classes, dtype=np.int64)[y_eval], probabilities).tolist())

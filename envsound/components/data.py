"""Trainer input: Transform's tf.Example output as ``(features, label)`` tf.data batches.

Transform materialises fixed-shape tf.Examples (``AUDIO_EMBEDDING_XF``, ``MASK_XF``, ``LABEL_XF``;
see preprocessing.py), gzip-compressed. The records are parsed batch-wise, cached in memory
once parsed (a few hundred MB even for 150k clips), then shuffled and re-batched every epoch,
so later epochs run at in-memory speed (bench/trainer_throughput.py measures it).
"""

from typing import Dict, Iterable, List, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from envsound.core import features

MODEL_INPUTS = (features.AUDIO_EMBEDDING_XF, features.MASK_XF)
_PARSE_BATCH = 512
_SHUFFLE_BUFFER = 20_000
HOLDOUT_BUCKETS = 5  # holdout_datasets keeps 1 in 5 training clips apart


def list_files(file_pattern: Union[str, Iterable[str]]) -> List[str]:
  """Expands one glob or a list of globs (``fn_args.train_files``) into sorted file names."""
  patterns = [file_pattern] if isinstance(file_pattern, str) else list(file_pattern)
  files = sorted(f for p in patterns for f in tf.io.gfile.glob(p))
  if not files:
    raise FileNotFoundError(f'no transformed examples match {patterns}')
  return files


def _compression(files: List[str]) -> str:
  return 'GZIP' if files[0].endswith('.gz') else ''


def split_label(parsed: Dict[str, tf.Tensor], label_key: str = features.LABEL_XF
                ) -> Tuple[Dict[str, tf.Tensor], tf.Tensor]:
  """Splits a parsed transformed batch into model inputs and the label (``label_key``: the
  int64 environment, or a target's other label feature)."""
  return {k: parsed[k] for k in MODEL_INPUTS}, parsed[label_key]


def parsed_dataset(file_pattern, tft_output: tft.TFTransformOutput) -> tf.data.Dataset:
  """Unbatched parsed transformed examples (dicts of dense tensors), read once and cached."""
  files = list_files(file_pattern)
  spec = tft_output.transformed_feature_spec()
  ds = tf.data.TFRecordDataset(files, compression_type=_compression(files),
                               num_parallel_reads=tf.data.AUTOTUNE)
  ds = ds.batch(_PARSE_BATCH).map(lambda x: tf.io.parse_example(x, spec),
                                  num_parallel_calls=tf.data.AUTOTUNE)
  return ds.unbatch().cache()


def input_fn(file_pattern, tft_output: tft.TFTransformOutput, batch_size: int, *,
             shuffle: bool = True, seed: int = 0,
             label_key: str = features.LABEL_XF) -> tf.data.Dataset:
  """One epoch of ``({AUDIO_EMBEDDING_XF, MASK_XF}, label)`` batches (Keras repeats it per epoch).

  Args:
    file_pattern: glob or list of globs of Transform's transformed examples.
    tft_output: the Transform graph (gives the transformed feature spec).
    batch_size: examples per batch.
    shuffle: reshuffle the examples every epoch (training).
    seed: shuffle seed.
    label_key: the transformed feature that is the label (the target's).

  Returns:
    A tf.data.Dataset; the last batch may be smaller.
  """
  ds = parsed_dataset(file_pattern, tft_output)
  if shuffle:
    ds = ds.shuffle(_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
  return ds.batch(batch_size).map(lambda p: split_label(p, label_key)).prefetch(
      tf.data.AUTOTUNE)


def read_columns(file_pattern, tft_output: tft.TFTransformOutput,
                 keys: Sequence[str]) -> Dict[str, np.ndarray]:
  """Loads the named transformed features of a whole split into memory, row-aligned.

  Raises:
    KeyError: a key is not a feature of the Transform output.
  """
  spec = tft_output.transformed_feature_spec()
  missing = sorted(set(keys) - set(spec))
  if missing:
    raise KeyError(f'transformed features lack {missing} (have {sorted(spec)})')
  files = list_files(file_pattern)
  wanted = {k: spec[k] for k in keys}
  ds = tf.data.TFRecordDataset(files, compression_type=_compression(files),
                               num_parallel_reads=tf.data.AUTOTUNE)
  ds = ds.batch(4096).map(lambda x: tf.io.parse_example(x, wanted),
                          num_parallel_calls=tf.data.AUTOTUNE)
  columns: Dict[str, list] = {k: [] for k in keys}
  for batch in ds.as_numpy_iterator():
    for k in keys:
      columns[k].append(batch[k])
  return {k: np.concatenate(v) if v else np.zeros([0, *wanted[k].shape],
                                                  wanted[k].dtype.as_numpy_dtype)
          for k, v in columns.items()}


def to_numpy(file_pattern, tft_output: tft.TFTransformOutput) -> Tuple[Dict[str, np.ndarray],
                                                                        np.ndarray]:
  """Loads a whole transformed split into memory (reports, the reference model, benchmarks)."""
  columns = read_columns(file_pattern, tft_output, MODEL_INPUTS + (features.LABEL_XF,))
  return {k: columns[k] for k in MODEL_INPUTS}, columns[features.LABEL_XF]


def read_labels(file_pattern, tft_output: tft.TFTransformOutput) -> np.ndarray:
  """The int64 labels of a transformed split (parses only the label feature)."""
  return read_columns(file_pattern, tft_output, (features.LABEL_XF,))[features.LABEL_XF]


def class_counts(labels: np.ndarray, num_classes: int) -> np.ndarray:
  """Examples per class (labels outside ``[0, num_classes)`` are ignored)."""
  labels = labels[(labels >= 0) & (labels < num_classes)]
  return np.bincount(labels, minlength=num_classes)


def holdout_datasets(file_pattern, tft_output: tft.TFTransformOutput, batch_size: int,
                     seed: int):
  """Splits transformed training examples by a hash of their embedding: 1 in HOLDOUT_BUCKETS
  clips (the same ones whatever the seed) score, the rest fit.

  Returns:
    ``(fit, score, fit_labels)``: shuffled fit batches, scoring batches (both
    ``(features, label)`` as data.input_fn gives) and the fit part's int64 labels.
  """
  def part(held_out: bool):
    def keep(example):
      bucket = tf.strings.to_hash_bucket_fast(
          tf.io.serialize_tensor(example[features.AUDIO_EMBEDDING_XF]), HOLDOUT_BUCKETS)
      return tf.equal(bucket, 0) if held_out else tf.not_equal(bucket, 0)
    return parsed_dataset(file_pattern, tft_output).filter(keep)

  fit = part(False)
  labels = np.array(list(fit.map(lambda e: e[features.LABEL_XF]).as_numpy_iterator()),
                    np.int64)
  fit = fit.shuffle(_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
  batches = lambda ds: ds.batch(batch_size).map(split_label).prefetch(tf.data.AUTOTUNE)
  return batches(fit), batches(part(True)), labels

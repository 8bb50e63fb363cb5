"""Warm-up requests for TF Serving: ``assets.extra/tf_serving_warmup_requests``.

TF Serving (and ``envsound serve``) replays these ``PredictionLog`` records when it loads a
version, before marking it AVAILABLE, so the first real request does not pay for graph
initialisation. The requests are built from the SavedModel's own signature, so no model
name is needed (TF Serving ignores the one in the records).
"""

import posixpath
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Union

import numpy as np

from envsound.core import atomic, features

WARMUP_DIR = 'assets.extra'
WARMUP_FILE = 'tf_serving_warmup_requests'
MAX_WARMUP_RECORDS = 1000  # TF Serving reads at most this many.


def _join(base, *parts: str) -> str:
  """Joins a local path or a URI (gs://...) with ``parts``."""
  return posixpath.join(str(base), *parts) if '://' in str(base) else \
      str(Path(base).joinpath(*parts))


def read_signature_defs(saved_model_dir) -> Dict[str, 'object']:
  """Returns the SignatureDefs of ``saved_model_dir``'s serving MetaGraph, by name."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from tensorflow.core.protobuf import saved_model_pb2  # pylint: disable=import-outside-toplevel
  proto = saved_model_pb2.SavedModel()
  with tf.io.gfile.GFile(_join(saved_model_dir, 'saved_model.pb'), 'rb') as f:
    proto.ParseFromString(f.read())
  for meta_graph in proto.meta_graphs:
    if 'serve' in meta_graph.meta_info_def.tags:
      return dict(meta_graph.signature_def)
  raise ValueError(f'{saved_model_dir}: no MetaGraph tagged "serve"')


def example_inputs(signature_def, batch_size: int, rng: np.random.Generator) -> Dict:
  """Returns random numpy inputs that fit ``signature_def`` (unknown dims: batch, frames).

  String inputs get serialized AudioSet ``SequenceExample``s.
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from envsound.core import records  # pylint: disable=import-outside-toplevel
  inputs = {}
  for key, info in signature_def.inputs.items():
    dims = [d.size for d in info.tensor_shape.dim]
    shape = [batch_size if i == 0 else (d if d >= 0 else features.NUM_FRAMES)
             for i, d in enumerate(dims)]
    dtype = tf.dtypes.as_dtype(info.dtype)
    if dtype == tf.string:
      frames = rng.integers(0, 256, (features.NUM_FRAMES, features.EMBEDDING_DIM), np.uint8)
      clip = records.encode_clip('warmup', 0.0, features.CLIP_SECONDS, [0], frames)
      inputs[key] = np.full(shape, clip, dtype=object)
    elif dtype.is_integer:
      inputs[key] = rng.integers(0, 256, shape).astype(dtype.as_numpy_dtype)
    else:
      inputs[key] = rng.uniform(features.QUANTIZE_MIN, features.QUANTIZE_MAX,
                                shape).astype(dtype.as_numpy_dtype)
  return inputs


def write_warmup_requests(saved_model_dir, num_records: int = 4, batch_size: int = 1,
                          signature_name: Union[str, Sequence[str]] = features.UINT8_SIGNATURE,
                          model_name: Optional[str] = None, seed: int = 0,
                          make_inputs: Callable = example_inputs) -> str:
  """Writes ``<saved_model_dir>/assets.extra/tf_serving_warmup_requests``.

  Call it after the model is saved and before it is pushed (e.g. from a Trainer's run_fn).

  Args:
    saved_model_dir: a SavedModel folder (with ``saved_model.pb``), local or a URI.
    num_records: how many PredictionLog records to write (at most 1000).
    batch_size: clips per request; records cycle through 1..batch_size so warm-up covers
      several batch shapes.
    signature_name: the signature the requests call, or several: records cycle through them.
    model_name: written into each request's model_spec (servers ignore it).
    seed: seeds the random inputs.
    make_inputs: ``(signature_def, batch_size, rng) -> {alias: array}``, the inputs of one
      request (default: ``example_inputs``).

  Returns:
    The path of the written file.

  Raises:
    ValueError: ``signature_name`` is not one of the SavedModel's signatures, or
      ``num_records`` is outside 1..1000.
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from tensorflow_serving.apis import predict_pb2, prediction_log_pb2  # pylint: disable=import-outside-toplevel
  if not 1 <= num_records <= MAX_WARMUP_RECORDS:
    raise ValueError(f'num_records must be in 1..{MAX_WARMUP_RECORDS}, got {num_records}')
  signatures = read_signature_defs(saved_model_dir)
  names = [signature_name] if isinstance(signature_name, str) else list(signature_name)
  for name in names:
    if name not in signatures:
      raise ValueError(f'{saved_model_dir}: no signature {name!r}; '
                       f'has {", ".join(sorted(signatures))}')
  rng = np.random.default_rng(seed)
  path = _join(saved_model_dir, WARMUP_DIR, WARMUP_FILE)
  tf.io.gfile.makedirs(_join(saved_model_dir, WARMUP_DIR))
  with atomic.atomic_path(path) as tmp:
    with tf.io.TFRecordWriter(tmp) as writer:
      for i in range(num_records):
        name = names[i % len(names)]
        request = predict_pb2.PredictRequest()
        request.model_spec.name = model_name or ''
        request.model_spec.signature_name = name
        for key, value in make_inputs(signatures[name], 1 + i // len(names) % batch_size,
                                      rng).items():
          request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        log = prediction_log_pb2.PredictionLog(
            predict_log=prediction_log_pb2.PredictLog(request=request))
        writer.write(log.SerializeToString())
  return path


def read_warmup_requests(saved_model_dir):
  """Yields the PredictionLog records of ``saved_model_dir``'s warm-up file, if any."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from tensorflow_serving.apis import prediction_log_pb2  # pylint: disable=import-outside-toplevel
  path = _join(saved_model_dir, WARMUP_DIR, WARMUP_FILE)
  if not tf.io.gfile.exists(path):
    return
  for i, record in enumerate(tf.data.TFRecordDataset(path).as_numpy_iterator()):
    if i >= MAX_WARMUP_RECORDS:
      return
    yield prediction_log_pb2.PredictionLog.FromString(record)

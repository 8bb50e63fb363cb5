"""One loaded model version: its SignatureDefs and checked, optionally batched, execution."""

from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import grpc
import numpy as np
import tensorflow as tf

from envsound.core import warmup
from envsound.serving import batching, metrics, server_errors
from envsound.serving.model_config import BatchingOptions

Tensors = Dict[str, np.ndarray]
PREDICT_METHOD = 'tensorflow/serving/predict'
# Predict runs any signature of these methods ('' is what an unmarked signature has).
SIGNATURE_METHODS = ('', PREDICT_METHOD, 'tensorflow/serving/classify',
                     'tensorflow/serving/regress')


class Servable:
  """A SavedModel version loaded for serving.

  Args:
    name: the model name it is served under.
    version: its version number.
    path: the version folder.
    batching_options: batch concurrent requests per signature; None runs each alone.
    server_metrics: where batch sizes and queue depths go.
  """

  def __init__(self, name: str, version: int, path, batching_options: Optional[
      BatchingOptions] = None, server_metrics: metrics.Metrics = metrics.NO_METRICS):
    self.name = name
    self.version = version
    self.path = Path(path)
    self.signature_defs = warmup.read_signature_defs(self.path)
    self._loaded = tf.saved_model.load(str(self.path), tags=['serve'])
    self._functions = dict(self._loaded.signatures)
    self._metrics = server_metrics
    self.schedulers: Dict[str, batching.BatchScheduler] = {}
    if batching_options is not None:
      for key in self._functions:
        labels = metrics.batch_labels(name, version, key)
        self.schedulers[key] = batching.BatchScheduler(
            lambda inputs, key=key: self._call(key, inputs), batching_options,
            name=f'{name}-{version}-{key}',
            on_batch=lambda *sizes, labels=labels: server_metrics.batch(labels, *sizes))
        server_metrics.track_queue(labels, lambda key=key: self.schedulers[key].queued_rows)

  def signature_def(self, signature_name: str):
    """The SignatureDef called ``signature_name`` ('' means serving_default)."""
    key = signature_name or tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY
    if key not in self._functions:
      raise server_errors.failed_precondition(f'Serving signature key "{key}" not found.')
    return self.signature_defs[key]

  def input_dtypes(self, signature_name: str) -> Dict[str, tf.dtypes.DType]:
    return {k: tf.dtypes.as_dtype(v.dtype)
            for k, v in self.signature_def(signature_name).inputs.items()}

  def predict(self, signature_name: str, inputs: Tensors,
              output_filter: Iterable[str] = (), batched: bool = True) -> Tensors:
    """Runs a signature on numpy inputs after checking them against its SignatureDef.

    Raises:
      server_errors.ServingError: INVALID_ARGUMENT for wrong names, dtypes or shapes (or inputs
        the graph rejects), FAILED_PRECONDITION for an unknown signature.
    """
    key, wanted = self._check(signature_name, inputs, output_filter)
    scheduler = self.schedulers.get(key) if batched else None
    outputs = scheduler.submit(inputs) if scheduler else self._call(key, inputs)
    return {k: outputs[k] for k in wanted}

  def _check(self, signature_name: str, inputs: Tensors,
             output_filter: Iterable[str]) -> Tuple[str, List[str]]:
    """(signature key, output keys) of a valid request; ServingError otherwise."""
    key = signature_name or tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY
    signature = self.signature_def(key)
    if signature.method_name not in SIGNATURE_METHODS:  # as TF Serving's Predict checks
      raise server_errors.ServingError(
          grpc.StatusCode.INTERNAL,
          'Expected prediction signature method_name to be one of {'
          + ', '.join(SIGNATURE_METHODS[1:]) + f'}}. Was: {signature.method_name}')
    _check_names('input', inputs, signature.inputs)
    wanted = list(output_filter) or list(signature.outputs)
    _check_names('output', wanted, signature.outputs, exact=False)
    for alias, info in signature.inputs.items():
      _check_tensor(alias, inputs[alias], info)
    return key, wanted

  def warm_up(self) -> int:
    """Replays ``assets.extra/tf_serving_warmup_requests``; returns how many ran."""
    count = 0
    for record in warmup.read_warmup_requests(self.path):
      if record.WhichOneof('log_type') != 'predict_log':
        continue
      request = record.predict_log.request
      inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
      self.predict(request.model_spec.signature_name, inputs, batched=False)
      count += 1
    return count

  def close(self) -> None:
    """Finishes queued batches and stops the batch threads (in-flight calls complete)."""
    for key, scheduler in self.schedulers.items():
      self._metrics.untrack_queue(metrics.batch_labels(self.name, self.version, key))
      scheduler.close()

  def _call(self, key: str, inputs: Tensors) -> Tensors:
    try:
      outputs = self._functions[key](**{k: tf.constant(v) for k, v in inputs.items()})
    except tf.errors.OpError as e:
      raise server_errors.ServingError(server_errors.code_from_number(e.error_code),
                                       op_error_message(e.message or str(e))) from e
    except (TypeError, ValueError) as e:
      raise server_errors.invalid_argument(str(e).strip().splitlines()[0]) from e
    return {k: v.numpy() for k, v in outputs.items()}


# Lines of a graph execution error that say where, not what.
_WHERE = ('Graph execution error', 'Detected at node', '<stack traces unavailable>', 'Node:')


def op_error_message(message: str) -> str:
  """The line of a TensorFlow op error that says what went wrong (without traces and nodes)."""
  for line in message.splitlines():
    if line.strip() and not line[0].isspace() and not line.startswith(_WHERE):
      return line.strip()
  return message.strip().splitlines()[0] if message.strip() else 'TensorFlow op error'


def _check_names(kind: str, given: Iterable[str], expected, exact: bool = True) -> None:
  given, expected = set(given), set(expected)
  extra, missing = given - expected, (expected - given if exact else set())
  if extra or missing:
    raise server_errors.invalid_argument(
        f'{kind} tensor alias not found in signature: {", ".join(sorted(extra)) or "-"}; '
        f'missing: {", ".join(sorted(missing)) or "-"}. '
        f'{kind.capitalize()}s expected to be in the set {{{",".join(sorted(expected))}}}.')


def _check_tensor(alias: str, value: np.ndarray, info) -> None:
  want = tf.dtypes.as_dtype(info.dtype)
  got = 'string' if value.dtype == object or value.dtype.kind in 'SU' else value.dtype.name
  if (want == tf.string) != (got == 'string') or (
      want != tf.string and np.dtype(want.as_numpy_dtype) != value.dtype):
    raise server_errors.invalid_argument(
        f'Expects arg {alias!r} to be {want.name} but {got} is provided')
  if info.tensor_shape.unknown_rank:
    return
  dims = [d.size for d in info.tensor_shape.dim]
  if len(dims) != value.ndim or any(d >= 0 and d != n for d, n in zip(dims, value.shape)):
    expected = [d if d >= 0 else None for d in dims]
    raise server_errors.invalid_argument(
        f'input {alias!r} has shape {list(value.shape)}; the signature expects {expected}')
  if value.ndim and value.shape[0] == 0:
    raise server_errors.invalid_argument(f'input {alias!r} is empty (0 rows)')

"""TF Serving's REST JSON for tensors: request inputs in the row (``instances``) and columnar
(``inputs``) formats, ``{"b64": ...}`` for binary strings, and outputs back to JSON."""

import base64
from typing import Dict

import numpy as np

from envsound.serving import server_errors


def _decode(value):
  """Replaces {"b64": ...} by bytes and str by utf-8 bytes, recursively."""
  if isinstance(value, dict):
    if set(value) != {'b64'}:
      raise server_errors.invalid_argument('JSON object in a tensor must be {"b64": "..."}')
    try:
      return base64.b64decode(value['b64'], validate=True)
    except (ValueError, TypeError) as e:
      raise server_errors.invalid_argument(f'Unable to base64 decode: {e}') from e
  if isinstance(value, list):
    return [_decode(v) for v in value]
  return value.encode() if isinstance(value, str) else value


def _array(alias: str, value, dtype) -> np.ndarray:
  value = _decode(value)
  try:
    if dtype.name == 'string':
      return np.array(value, dtype=object)
    array = np.array(value)
    if array.dtype == object or array.dtype.kind in 'SU':
      raise ValueError('ragged or non-numeric values')
    if dtype.is_integer and array.dtype.kind == 'f':
      raise ValueError('floats for an integer tensor')
    if dtype.is_integer and array.size and (array.min() < dtype.min or array.max() > dtype.max):
      raise ValueError(f'values outside {dtype.name}')
    return array.astype(dtype.as_numpy_dtype)
  except (ValueError, TypeError) as e:
    raise server_errors.invalid_argument(
        f'input {alias!r}: cannot convert to {dtype.name}: {e}') from e


def row_inputs(instances, dtypes) -> Dict[str, np.ndarray]:
  if not isinstance(instances, list) or not instances:
    raise server_errors.invalid_argument("'instances' must be a non-empty list")
  named = all(isinstance(i, dict) and set(i) != {'b64'} for i in instances)
  if not named:
    if len(dtypes) != 1:
      raise server_errors.invalid_argument(
          f'instances must be objects naming each of the inputs {sorted(dtypes)}')
    ((alias, dtype),) = dtypes.items()
    return {alias: _array(alias, instances, dtype)}
  keys = set(instances[0])
  if any(set(i) != keys for i in instances):
    raise server_errors.invalid_argument('every instance must name the same inputs')
  return {k: _array(k, [i[k] for i in instances], dtypes.get(k, _Unknown(k))) for k in keys}


def columnar_inputs(inputs, dtypes) -> Dict[str, np.ndarray]:
  if isinstance(inputs, dict) and set(inputs) != {'b64'}:
    return {k: _array(k, v, dtypes.get(k, _Unknown(k))) for k, v in inputs.items()}
  if len(dtypes) != 1:
    raise server_errors.invalid_argument(f"'inputs' must be an object naming {sorted(dtypes)}")
  ((alias, dtype),) = dtypes.items()
  return {alias: _array(alias, inputs, dtype)}


class _Unknown:
  """Stands in for the dtype of an input the signature lacks (the servable rejects it)."""
  name = 'float32'
  is_integer = False
  as_numpy_dtype = np.float32

  def __init__(self, alias):
    self.alias = alias


def to_json(alias: str, value: np.ndarray):
  """Output tensor -> JSON (strings as text, or {"b64"} for *_bytes aliases and binary)."""
  if value.dtype == object:
    def text(v):
      if not alias.endswith('_bytes'):
        try:
          return v.decode('utf-8')
        except UnicodeDecodeError:
          pass
      return {'b64': base64.b64encode(v).decode()}
    return np.vectorize(text, otypes=[object])(value).tolist() if value.size else \
        value.tolist()
  return value.tolist()

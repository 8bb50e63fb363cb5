"""numpy <-> TensorProto and clip batching, without TensorFlow.

The conversions work on any TensorProto message with TensorFlow's fields: the client's
generated ones (envsound.serving.protos) and TensorFlow's own, which the server uses.
"""

import dataclasses
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from envsound.core import clips as clip_rule
from envsound.core import features
from envsound.serving.client_errors import InvalidRequestError
from envsound.serving.protos import tensor_pb2, types_pb2

_DT = types_pb2.DataType
_NUMPY_BY_ENUM = {
    _DT.Value(f'DT_{name}'): np.dtype(dtype) for name, dtype in (
        ('UINT8', np.uint8), ('INT8', np.int8), ('INT16', np.int16), ('UINT16', np.uint16),
        ('INT32', np.int32), ('UINT32', np.uint32), ('INT64', np.int64), ('UINT64', np.uint64),
        ('HALF', np.float16), ('FLOAT', np.float32), ('DOUBLE', np.float64),
        ('BOOL', np.bool_))}
_ENUM_BY_NUMPY = {dtype: enum for enum, dtype in _NUMPY_BY_ENUM.items()}
# Where a TensorProto without tensor_content keeps its values (as tensor.proto documents).
_VALUE_FIELDS = {_DT.Value(f'DT_{name}'): field for name, field in (
    ('UINT8', 'int_val'), ('INT8', 'int_val'), ('INT16', 'int_val'), ('UINT16', 'int_val'),
    ('INT32', 'int_val'), ('UINT32', 'uint32_val'), ('INT64', 'int64_val'),
    ('UINT64', 'uint64_val'), ('HALF', 'half_val'), ('FLOAT', 'float_val'),
    ('DOUBLE', 'double_val'), ('BOOL', 'bool_val'), ('STRING', 'string_val'))}
_TF_NAMES = {'DT_HALF': 'float16', 'DT_FLOAT': 'float32', 'DT_DOUBLE': 'float64'}


def fill_proto(proto, array: np.ndarray) -> None:
  """Writes ``array`` into an empty TensorProto in the encoding ``tf.make_tensor_proto``
  chooses: integers and float32/64 as tensor_content, bool, float16 and strings as values."""
  array = np.asarray(array)
  if array.dtype == object or array.dtype.kind in 'SU':
    proto.dtype = _DT.Value('DT_STRING')
    proto.string_val.extend(v if isinstance(v, bytes) else str(v).encode()
                            for v in array.ravel().tolist())
  elif array.dtype not in _ENUM_BY_NUMPY:
    raise ValueError(f'no TensorFlow dtype for numpy {array.dtype}')
  else:
    proto.dtype = _ENUM_BY_NUMPY[array.dtype]
    if array.dtype == np.bool_:
      proto.bool_val.extend(array.ravel().tolist())
    elif array.dtype == np.float16:
      proto.half_val.extend(array.ravel().view(np.uint16).tolist())
    else:
      proto.tensor_content = np.ascontiguousarray(array).tobytes()
  proto.tensor_shape.SetInParent()  # present even for a scalar, as TensorFlow writes it
  for size in array.shape:
    proto.tensor_shape.dim.add(size=size)


def to_proto(array: np.ndarray):
  """numpy -> TensorProto (see fill_proto)."""
  proto = tensor_pb2.TensorProto()
  fill_proto(proto, array)
  return proto


def from_proto(proto) -> np.ndarray:
  """TensorProto -> numpy (strings become bytes objects), as ``tf.make_ndarray`` reads it.

  Raises:
    ValueError: an unsupported dtype, or values that do not fill the shape.
  """
  shape = [d.size for d in proto.tensor_shape.dim]
  count = int(np.prod(shape, dtype=np.int64))
  if proto.dtype not in _VALUE_FIELDS and proto.dtype not in _NUMPY_BY_ENUM:
    raise ValueError(f'unsupported tensor dtype {_DT.Name(proto.dtype)}')
  if proto.dtype in _NUMPY_BY_ENUM and proto.tensor_content:
    values = np.frombuffer(proto.tensor_content, _NUMPY_BY_ENUM[proto.dtype])
    if values.size != count:
      raise ValueError(f'tensor_content holds {values.size} values for shape {shape}')
    return values.reshape(shape)
  values = list(getattr(proto, _VALUE_FIELDS[proto.dtype]))
  if proto.dtype == _DT.Value('DT_STRING'):
    array = np.empty(len(values), object)
    array[:] = values
  elif proto.dtype == _DT.Value('DT_HALF'):
    array = np.asarray(values, np.uint16).view(np.float16)
  else:
    array = np.asarray(values, _NUMPY_BY_ENUM[proto.dtype])
  if array.size == count:
    return array.reshape(shape)
  if array.size == 0 and count and proto.dtype != _DT.Value('DT_STRING'):
    return np.zeros(shape, array.dtype)
  if 0 < array.size < count:  # TensorFlow repeats the last value to fill the shape
    return np.pad(array, (0, count - array.size), 'edge').reshape(shape)
  raise ValueError(f'{array.size} values for shape {shape}')


def dtype_name(enum: int) -> str:
  """TensorFlow's name for a DataType enum (``float32``, ``uint8``, ``string``, ...)."""
  name = _DT.Name(enum)
  return _TF_NAMES.get(name, name[len('DT_'):].lower())


def describe(tensor_info) -> Tuple[str, Optional[Tuple[Optional[int], ...]]]:
  """A SignatureDef TensorInfo as (dtype name, shape with None for unknown dims)."""
  dtype = dtype_name(tensor_info.dtype)
  if tensor_info.tensor_shape.unknown_rank:
    return dtype, None
  return dtype, tuple(d.size if d.size >= 0 else None for d in tensor_info.tensor_shape.dim)


@dataclasses.dataclass(frozen=True)
class ClipGroup:
  """Clips that share a frame count and dtype, stacked; ``indices`` say where each came from."""
  indices: Tuple[int, ...]
  batch: np.ndarray  # [n, frames, EMBEDDING_DIM], uint8 or float32


def group_clips(clips: Union[np.ndarray, Sequence[np.ndarray]],
                dtype: Optional[np.dtype] = None) -> List[ClipGroup]:
  """Groups clips by frame count and dtype so that none is padded before it is sent.

  Clips longer than NUM_FRAMES are cut to their first NUM_FRAMES frames, as the models'
  graphs cut them; shorter ones keep their length, because the graphs pad and mask each clip
  themselves (zero frames padded here would count as real sound).

  Args:
    clips: ``[frames, 128]`` arrays, or one ``[n, frames, 128]`` array.
    dtype: np.uint8 (every clip must be uint8), np.float32 (uint8 clips are dequantised),
      or None: uint8 clips stay uint8 and float clips become float32.

  Returns:
    The groups, in order of each group's first clip.

  Raises:
    InvalidInputError: 'clip <index>: ...' for a clip against envsound.core.clips' rule.
    InvalidRequestError: no clips, or a float clip where ``dtype`` is uint8.
  """
  if isinstance(clips, np.ndarray) and clips.ndim == 3:
    clips = list(clips)
  if not len(clips):
    raise InvalidRequestError('no clips to predict', 'INVALID_ARGUMENT')
  members: Dict[Tuple[str, int], List[int]] = {}
  arrays = []
  for i, clip in enumerate(clips):
    clip = clip_rule.check(clip, f'clip {i}')[:features.NUM_FRAMES]
    if clip.dtype != np.uint8 and dtype == np.uint8:
      raise InvalidRequestError(f'clip {i}: dtype {clip.dtype}; this signature takes uint8',
                                'INVALID_ARGUMENT')
    if clip.dtype == np.uint8 and dtype == np.float32:
      clip = features.dequantize(clip.astype(np.float32))
    arrays.append(clip)
    members.setdefault((clip.dtype.str, len(clip)), []).append(i)
  return [ClipGroup(tuple(idx), np.stack([arrays[i] for i in idx]))
          for idx in members.values()]

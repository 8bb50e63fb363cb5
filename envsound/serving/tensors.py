"""numpy <-> TensorProto and clip batching, shared by the client and the CLI."""

import dataclasses
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2

from envsound.core import features
from envsound.serving.errors import InvalidRequestError


def fill_proto(proto, array: np.ndarray) -> None:
  """Writes ``array`` into an empty TensorProto: numbers as tensor_content, strings as
  string_val, as ``tf.make_tensor_proto`` does (a few times faster, which the server
  notices: every response carries five outputs)."""
  array = np.asarray(array)
  if array.dtype == object or array.dtype.kind in 'SU':
    proto.dtype = types_pb2.DT_STRING
    proto.string_val.extend(v if isinstance(v, bytes) else str(v).encode()
                            for v in array.ravel().tolist())
  else:
    proto.dtype = tf.dtypes.as_dtype(array.dtype).as_datatype_enum
    proto.tensor_content = np.ascontiguousarray(array).tobytes()
  for size in array.shape:
    proto.tensor_shape.dim.add(size=size)


def to_proto(array: np.ndarray):
  """numpy -> TensorProto (see fill_proto)."""
  proto = tensor_pb2.TensorProto()
  fill_proto(proto, array)
  return proto


def from_proto(proto) -> np.ndarray:
  """TensorProto -> numpy (strings become bytes objects)."""
  if proto.tensor_content and proto.dtype in _CONTENT_DTYPES:
    shape = [d.size for d in proto.tensor_shape.dim]
    array = np.frombuffer(proto.tensor_content, _CONTENT_DTYPES[proto.dtype])
    if array.size == int(np.prod(shape)):
      return array.reshape(shape)
  return tf.make_ndarray(proto)  # other encodings; raises for malformed ones


_CONTENT_DTYPES = {tf.dtypes.as_dtype(t).as_datatype_enum: np.dtype(t) for t in (
    np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16, np.float32, np.float64)}


def describe(tensor_info) -> Tuple[str, Optional[Tuple[Optional[int], ...]]]:
  """A SignatureDef TensorInfo as (dtype name, shape with None for unknown dims)."""
  dtype = tf.dtypes.as_dtype(tensor_info.dtype).name
  if tensor_info.tensor_shape.unknown_rank:
    return dtype, None
  return dtype, tuple(d.size if d.size >= 0 else None for d in tensor_info.tensor_shape.dim)


@dataclasses.dataclass(frozen=True)
class ClipGroup:
  """Clips that share a frame count and dtype, stacked; ``indices`` say where each came from."""
  indices: Tuple[int, ...]
  batch: np.ndarray  # [n, frames, EMBEDDING_DIM], uint8 or float32


def check_clip(index: int, clip) -> np.ndarray:
  """One clip as an array ``[frames, 128]`` of uint8 or floats.

  Raises:
    InvalidRequestError: 'clip <index>: ...' for the wrong shape or dtype.
  """
  clip = np.asarray(clip)
  if clip.ndim != 2 or clip.shape[1] != features.EMBEDDING_DIM or not len(clip):
    raise InvalidRequestError(f'clip {index}: shape {clip.shape}, expected '
                              f'[frames, {features.EMBEDDING_DIM}]', 'INVALID_ARGUMENT')
  if clip.dtype != np.uint8 and clip.dtype.kind != 'f':
    raise InvalidRequestError(f'clip {index}: dtype {clip.dtype}, expected uint8 or float',
                              'INVALID_ARGUMENT')
  return clip


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
    InvalidRequestError: no clips, a clip of the wrong shape or dtype, or a float clip where
      ``dtype`` is uint8.
  """
  if isinstance(clips, np.ndarray) and clips.ndim == 3:
    clips = list(clips)
  if not len(clips):
    raise InvalidRequestError('no clips to predict', 'INVALID_ARGUMENT')
  members: Dict[Tuple[str, int], List[int]] = {}
  arrays = []
  for i, clip in enumerate(clips):
    clip = check_clip(i, clip)[:features.NUM_FRAMES]
    if clip.dtype != np.uint8 and dtype == np.uint8:
      raise InvalidRequestError(f'clip {i}: dtype {clip.dtype}; this signature takes uint8',
                                'INVALID_ARGUMENT')
    if clip.dtype == np.uint8 and dtype == np.float32:
      clip = features.dequantize(clip.astype(np.float32))
    clip = clip if clip.dtype == np.uint8 else clip.astype(np.float32, copy=False)
    arrays.append(clip)
    members.setdefault((clip.dtype.str, len(clip)), []).append(i)
  return [ClipGroup(tuple(idx), np.stack([arrays[i] for i in idx]))
          for idx in members.values()]

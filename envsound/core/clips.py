"""What a clip is, checked in one place: a ``.npy`` array of VGGish frames.

A clip is a non-empty array of shape ``[frames, 128]``, either uint8 (AudioSet's quantised
bytes) or floats (dequantised VGGish values: finite and within VGGish's [-2, 2]), stored as a
plain ``.npy`` file that ``np.load(path, allow_pickle=False)`` reads. ``envsound predict``,
the serving client and the desktop client all apply this rule.
"""

from pathlib import Path

import numpy as np

from envsound.core import features
from envsound.core.errors import InvalidInputError

RULE = (f'.npy files, np.load(allow_pickle=False): shape [frames, {features.EMBEDDING_DIM}], '
        f'frames >= 1, dtype uint8 (AudioSet bytes) or float (dequantised, finite, within '
        f'[{features.QUANTIZE_MIN:g}, {features.QUANTIZE_MAX:g}])')
_RANGE_SLACK = 1e-4  # dequantising 0 and 255 in float32 may land a rounding step outside


def check(array, source) -> np.ndarray:
  """Checks one clip against the rule; returns it as uint8 or float32.

  Args:
    array: the clip (anything np.asarray takes).
    source: what to name in an error: the file, or e.g. ``'clip 3'``.

  Raises:
    InvalidInputError: ``<source>: <what is wrong>``.
  """
  array = np.asarray(array)
  if array.ndim != 2 or array.shape[1] != features.EMBEDDING_DIM:
    raise InvalidInputError(
        source, f'shape {tuple(array.shape)}, expected [frames, {features.EMBEDDING_DIM}]')
  if array.shape[0] == 0:
    raise InvalidInputError(source, 'empty: no frames')
  if array.dtype == np.uint8:
    return array
  if not np.issubdtype(array.dtype, np.floating):
    raise InvalidInputError(source, f'dtype {array.dtype}, expected uint8 or float')
  if not np.all(np.isfinite(array)):
    raise InvalidInputError(source, 'float values must be finite (found NaN or inf)')
  low, high = float(array.min()), float(array.max())
  if low < features.QUANTIZE_MIN - _RANGE_SLACK or high > features.QUANTIZE_MAX + _RANGE_SLACK:
    raise InvalidInputError(
        source, f'float values span [{low:.3g}, {high:.3g}], outside VGGish\'s '
                f'[{features.QUANTIZE_MIN:g}, {features.QUANTIZE_MAX:g}]')
  return array.astype(np.float32, copy=False)


def load(path) -> np.ndarray:
  """Reads and checks one ``.npy`` clip without unpickling anything.

  Raises:
    InvalidInputError: naming the file: unreadable, not a plain .npy array, pickled, an
      .npz archive, or against the rule.
  """
  path = Path(path)
  try:
    array = np.load(path, allow_pickle=False)
  except ValueError as e:  # object arrays, bad headers, pickles
    reason = str(e).split('\n')[0]
    if 'pickle' in reason.lower():
      reason = ('holds pickled Python objects, which are refused (allow_pickle=False)'
                if _has_npy_magic(path) else 'no .npy header')
    raise InvalidInputError(path, f'not a plain .npy array: {reason}') from None
  except (OSError, EOFError) as e:
    raise InvalidInputError(path, f'cannot read: {e}') from None
  if not isinstance(array, np.ndarray):  # np.load returns an NpzFile for .npz archives
    array.close()
    raise InvalidInputError(path, 'an .npz archive, not a single .npy array')
  return check(array, path)


def _has_npy_magic(path: Path) -> bool:
  with open(path, 'rb') as f:
    return f.read(6) == b'\x93NUMPY'

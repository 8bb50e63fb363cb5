"""Validates the .npy embedding clips a user drops into the desktop client.

The rule (also shown in the window and in docs/gui.md): a clip is a ``.npy`` file that
``np.load(path, allow_pickle=False)`` reads as a non-empty array of shape
``[frames, 128]`` with dtype uint8 (AudioSet's quantised bytes) or a float dtype
(dequantised VGGish values, finite). At most :data:`MAX_FILES` files are loaded at once.
"""

import dataclasses
import os
from pathlib import Path
from typing import Iterable, List, Sequence, Tuple

import numpy as np

from envsound.core import features
from envsound.core.errors import EnvsoundError, InvalidInputError

MAX_FILES = 500
RULE = (f'.npy files, np.load(allow_pickle=False): shape [frames, {features.EMBEDDING_DIM}], '
        f'frames >= 1, dtype uint8 (AudioSet bytes) or float (dequantised, finite); '
        f'at most {MAX_FILES} files')


class TooManyFilesError(EnvsoundError):
  """More files were offered than the client accepts at once."""

  def __init__(self, count: int, already: int = 0, limit: int = MAX_FILES):
    self.count = count
    self.already = already
    self.limit = limit
    held = f' with {already} already loaded' if already else ''
    super().__init__(f'{count} files offered{held}; at most {limit} clips can be loaded '
                     'at once')


@dataclasses.dataclass(frozen=True)
class LoadedClip:
  """One valid clip: where it came from and its frames (uint8 or float32)."""
  path: Path
  frames: np.ndarray

  @property
  def name(self) -> str:
    return self.path.name


@dataclasses.dataclass
class LoadResult:
  """Valid clips, in the order offered, and ``(path, reason)`` for each rejected file."""
  clips: List[LoadedClip]
  rejected: List[Tuple[Path, str]]


def validate_array(path, array: np.ndarray) -> np.ndarray:
  """Checks one loaded array against the rule; returns it as uint8 or float32.

  Raises:
    InvalidInputError: naming the file and what is wrong.
  """
  if array.ndim != 2 or array.shape[1] != features.EMBEDDING_DIM:
    raise InvalidInputError(
        path, f'shape {tuple(array.shape)}, expected [frames, {features.EMBEDDING_DIM}]')
  if array.shape[0] == 0:
    raise InvalidInputError(path, 'empty: no frames')
  if array.dtype == np.uint8:
    return array
  if np.issubdtype(array.dtype, np.floating):
    if not np.all(np.isfinite(array)):
      raise InvalidInputError(path, 'float values must be finite (found NaN or inf)')
    return array.astype(np.float32, copy=False)
  raise InvalidInputError(path, f'dtype {array.dtype}, expected uint8 or float')


def load_clip(path) -> LoadedClip:
  """Loads and validates one ``.npy`` clip.

  Raises:
    InvalidInputError: the file is unreadable, not a .npy array, pickled, or breaks the rule.
  """
  path = Path(path)
  try:
    array = np.load(path, allow_pickle=False)
  except ValueError as e:  # object arrays, bad headers, pickles
    reason = str(e).split('\n')[0]
    if 'allow_pickle' in reason or 'pickle' in reason.lower():
      reason = 'holds pickled Python objects, which are refused (allow_pickle=False)'
    raise InvalidInputError(path, f'not a plain .npy array: {reason}') from None
  except (OSError, EOFError) as e:
    raise InvalidInputError(path, f'cannot read: {e}') from None
  if not isinstance(array, np.ndarray):  # np.load returns NpzFile for .npz archives
    if hasattr(array, 'close'):
      array.close()
    raise InvalidInputError(path, 'an .npz archive, not a single .npy array')
  return LoadedClip(path, validate_array(path, array))


def expand_paths(paths: Iterable) -> List[Path]:
  """Turns dropped or chosen paths into files: folders contribute their ``*.npy`` files."""
  files: List[Path] = []
  for p in paths:
    p = Path(p)
    if p.is_dir():
      files.extend(sorted(f for f in p.glob('*.npy') if f.is_file()))
    else:
      files.append(p)
  return files


def check_count(count: int, already: int = 0, limit: int = MAX_FILES) -> None:
  """Raises TooManyFilesError when ``already + count`` exceeds ``limit``."""
  if already + count > limit:
    raise TooManyFilesError(count, already, limit)


def load_clips(paths: Sequence, already: int = 0, limit: int = MAX_FILES) -> LoadResult:
  """Validates files (folders expand to their ``*.npy``); refuses more than ``limit``.

  Args:
    paths: files and/or folders, in the order offered.
    already: clips loaded before; they count against ``limit``.
    limit: the most clips the window holds.

  Returns:
    The valid clips and the rejected files with their reasons.

  Raises:
    TooManyFilesError: ``already`` plus the offered files exceed ``limit``; nothing is loaded.
  """
  files = expand_paths(paths)
  check_count(len(files), already, limit)
  result = LoadResult([], [])
  seen = set()
  for f in files:
    key = os.path.abspath(f)
    if key in seen:
      continue
    seen.add(key)
    try:
      result.clips.append(load_clip(f))
    except InvalidInputError as e:
      result.rejected.append((Path(f), e.reason))
  return result


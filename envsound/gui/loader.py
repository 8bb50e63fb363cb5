"""Validates the .npy embedding clips a user drops into the desktop client.

The rule (also shown in the window and in docs/gui.md): a clip is a ``.npy`` file that
``np.load(path, allow_pickle=False)`` reads as a non-empty array of shape
``[frames, 128]`` with dtype uint8 (AudioSet's quantised bytes) or a float dtype
(dequantised VGGish values, finite). Audio files (``core.audio.is_audio``) are set aside
for the server's VGGish to embed (``audio_files.py``). At most :data:`MAX_FILES` files are
loaded at once.
"""

import dataclasses
import os
from pathlib import Path
from typing import Iterable, List, Sequence, Tuple

import numpy as np

from envsound.core import audio, clips
from envsound.core.errors import EnvsoundError, InvalidInputError

MAX_FILES = 500
RULE = (f'{clips.RULE}; or audio files (wav, flac, ogg, ...), embedded by the server\'s '
        f'vggish model; at most {MAX_FILES} files')


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
  """Valid clips, in the order offered, ``(path, reason)`` for each rejected file, and the
  audio files still to embed."""
  clips: List[LoadedClip]
  rejected: List[Tuple[Path, str]]
  audio: List[Path] = dataclasses.field(default_factory=list)


def load_clip(path) -> LoadedClip:
  """Loads one ``.npy`` clip by envsound's one clip rule (``envsound.core.clips``).

  Raises:
    InvalidInputError: the file is unreadable, not a .npy array, pickled, or breaks the rule.
  """
  return LoadedClip(Path(path), clips.load(path))


def expand_paths(paths: Iterable) -> List[Path]:
  """Turns dropped or chosen paths into files: folders contribute their ``*.npy`` and
  audio files."""
  files: List[Path] = []
  for p in paths:
    p = Path(p)
    if p.is_dir():
      files.extend(sorted(f for f in p.iterdir() if f.is_file()
                          and (f.suffix == '.npy' or audio.is_audio(f))))
    else:
      files.append(p)
  return files


def check_count(count: int, already: int = 0, limit: int = MAX_FILES) -> None:
  """Raises TooManyFilesError when ``already + count`` exceeds ``limit``."""
  if already + count > limit:
    raise TooManyFilesError(count, already, limit)


def load_clips(paths: Sequence, already: int = 0, limit: int = MAX_FILES) -> LoadResult:
  """Validates files (folders expand to their ``*.npy`` and audio files); refuses more than
  ``limit``. Audio files are listed in ``audio``, not read.

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
    if audio.is_audio(f):
      result.audio.append(Path(f))
      continue
    try:
      result.clips.append(load_clip(f))
    except InvalidInputError as e:
      result.rejected.append((Path(f), e.reason))
  return result


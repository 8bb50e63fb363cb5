"""Reads audio files for VGGish: any format libsndfile decodes, mixed to mono, 16 kHz.

Resampling uses ``scipy.signal.resample_poly`` (polyphase, Kaiser-windowed FIR).
"""

import math
from pathlib import Path
from typing import Iterable, List, Tuple

import numpy as np

from envsound.core.errors import EnvsoundError, InvalidInputError
from envsound.vggish import params

# A peak below one 16-bit step counts as silence.
SILENCE_PEAK = 1.0 / 32768


def extensions() -> Tuple[str, ...]:
  """File name endings a folder contributes: the formats libsndfile reads, plus aliases."""
  import soundfile  # pylint: disable=import-outside-toplevel
  known = {f'.{name.lower()}' for name in soundfile.available_formats()}
  return tuple(sorted(known | {'.aif', '.aiff', '.oga', '.opus', '.wave'}))


def to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
  """Resamples mono float samples from ``rate`` Hz to 16 kHz."""
  if rate == params.SAMPLE_RATE:
    return samples
  from scipy import signal  # pylint: disable=import-outside-toplevel
  g = math.gcd(params.SAMPLE_RATE, rate)
  return signal.resample_poly(samples, params.SAMPLE_RATE // g, rate // g).astype(np.float32)


def read_audio(path) -> np.ndarray:
  """Returns ``path``'s audio as float32 16 kHz mono in [-1, 1], long enough for VGGish.

  Raises:
    InvalidInputError: naming the file: an unknown format, a corrupt file, non-finite
      samples, silence, or less audio than one 0.96 s example.
  """
  import soundfile  # pylint: disable=import-outside-toplevel
  path = Path(path)
  try:
    data, rate = soundfile.read(str(path), dtype='float32', always_2d=True)
  except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
    reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    raise InvalidInputError(path, f'cannot decode audio: {reason}') from None
  except OSError as e:
    raise InvalidInputError(path, f'cannot read: {e.strerror or e}') from None
  if not np.all(np.isfinite(data)):
    raise InvalidInputError(path, 'holds NaN or infinite samples')
  mono = to_16k(data.mean(axis=1), rate)
  if len(mono) < params.EXAMPLE_SPAN:
    raise InvalidInputError(
        path, f'{len(data) / rate:.3f} s of audio is shorter than one VGGish example '
              f'(0.96 s of frames: at least {params.EXAMPLE_SPAN / params.SAMPLE_RATE:.3f} s)')
  if np.max(np.abs(mono)) < SILENCE_PEAK:
    raise InvalidInputError(path, 'silent: every sample is (near) zero')
  return np.clip(mono, -1.0, 1.0)


def expand_inputs(inputs: Iterable) -> List[Tuple[Path, Path]]:
  """``(file, name relative to its argument)`` for files and folders (searched recursively
  for audio extensions), in the order given, each file once.

  Raises:
    EnvsoundError: an argument does not exist, or a folder holds no audio file.
  """
  endings = extensions()
  found, seen = [], set()
  for arg in map(Path, inputs):
    if arg.is_dir():
      files = sorted(p for p in arg.rglob('*') if p.is_file() and p.suffix.lower() in endings)
      if not files:
        raise EnvsoundError(f'{arg}: no audio files ({", ".join(endings)}) in this folder')
      pairs = [(p, p.relative_to(arg)) for p in files]
    elif arg.exists():
      pairs = [(arg, Path(arg.name))]
    else:
      raise EnvsoundError(f'{arg}: no such file or folder')
    for path, rel in pairs:
      if path.resolve() not in seen:
        seen.add(path.resolve())
        found.append((path, rel))
  return found

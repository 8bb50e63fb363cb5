"""Audio for VGGish, without TensorFlow: reading files and cutting waveforms into examples.

Files are decoded by libsndfile (``soundfile``), mixed to mono and resampled to 16 kHz with
``scipy.signal.resample_poly`` (polyphase, Kaiser-windowed FIR). ``envsound embed``,
``envsound predict``, the desktop client and the VGGish export all follow this one rule, and
VGGish's framing: 25 ms windows every 10 ms, 96 of them (0.96 s) per non-overlapping example.
"""

import functools
import math
from pathlib import Path
from typing import Iterable, List, Tuple

import numpy as np

from envsound.core import features
from envsound.core.errors import EnvsoundError, InvalidInputError

SAMPLE_RATE = features.VGGISH_SAMPLE_RATE
STFT_WINDOW = 400          # 25 ms periodic Hann window
STFT_HOP = 160             # 10 ms
EXAMPLE_FRAMES = 96        # 0.96 s per example, non-overlapping
EXAMPLE_SAMPLES = EXAMPLE_FRAMES * STFT_HOP           # 15,360: the stride of examples
# Samples an example reads: its 96 windows reach 240 samples past the next example's start.
EXAMPLE_SPAN = (EXAMPLE_FRAMES - 1) * STFT_HOP + STFT_WINDOW
# A peak below one 16-bit step counts as silence.
SILENCE_PEAK = 1.0 / 32768


def num_examples(samples: int) -> int:
  """How many examples ``samples`` 16 kHz samples give."""
  if samples < EXAMPLE_SPAN:
    return 0
  frames = 1 + (samples - STFT_WINDOW) // STFT_HOP
  return frames // EXAMPLE_FRAMES


def example_windows(waveform: np.ndarray) -> np.ndarray:
  """float32 ``[examples, EXAMPLE_SPAN]``: the samples each example of ``waveform`` reads.

  Embedding each window alone gives exactly that example of the whole waveform (the front
  end frames every window from its own first sample), and windows of equal length batch.
  """
  count = num_examples(len(waveform))
  starts = np.arange(count)[:, None] * EXAMPLE_SAMPLES
  return np.asarray(waveform, np.float32)[starts + np.arange(EXAMPLE_SPAN)]


@functools.lru_cache(maxsize=None)
def extensions() -> Tuple[str, ...]:
  """File name endings a folder contributes: the formats libsndfile reads, plus aliases."""
  import soundfile  # pylint: disable=import-outside-toplevel
  known = {f'.{name.lower()}' for name in soundfile.available_formats()}
  return tuple(sorted(known | {'.aif', '.aiff', '.oga', '.opus', '.wave'}))


def is_audio(path) -> bool:
  """Whether ``path``'s ending names an audio format (else it is taken for a ``.npy`` clip)."""
  return Path(path).suffix.lower() in extensions()


def to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
  """Resamples mono float samples from ``rate`` Hz to 16 kHz."""
  if rate == SAMPLE_RATE:
    return samples
  from scipy import signal  # pylint: disable=import-outside-toplevel
  g = math.gcd(SAMPLE_RATE, rate)
  return signal.resample_poly(samples, SAMPLE_RATE // g, rate // g).astype(np.float32)


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
  if len(mono) < EXAMPLE_SPAN:
    raise InvalidInputError(
        path, f'{len(data) / rate:.3f} s of audio is shorter than one VGGish example '
              f'(0.96 s of frames: at least {EXAMPLE_SPAN / SAMPLE_RATE:.3f} s)')
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


class StreamResampler:
  """Resamples a live stream of mono blocks to 16 kHz as ``to_16k`` would the whole stream.

  Each ``push`` returns the output samples that no later input can change any more (the
  filter reads ``10 * max(up, down) / up`` input samples either side); the input they no
  longer need is dropped, so memory stays bounded.
  """

  def __init__(self, rate: int):
    g = math.gcd(SAMPLE_RATE, int(rate))
    self.up, self.down = SAMPLE_RATE // g, int(rate) // g
    self._reach = math.ceil(10 * max(self.up, self.down) / self.up) + 1  # input samples
    self._buffer = np.zeros(0, np.float32)
    self._offset = 0   # input index of _buffer[0], a multiple of ``down``
    self._emitted = 0  # output samples returned so far

  def push(self, block: np.ndarray) -> np.ndarray:
    """Adds input samples; returns the float32 16 kHz samples now final."""
    block = np.asarray(block, np.float32)
    if self.up == self.down:
      return block
    from scipy import signal  # pylint: disable=import-outside-toplevel
    self._buffer = np.concatenate([self._buffer, block])
    ready = (self._offset + len(self._buffer) - self._reach) * self.up // self.down
    if ready <= self._emitted:
      return np.zeros(0, np.float32)
    base = self._offset * self.up // self.down
    out = signal.resample_poly(self._buffer, self.up, self.down)[self._emitted - base:ready - base]
    self._emitted = ready
    keep = max(0, (ready * self.down // self.up - self._reach) // self.down * self.down)
    if keep > self._offset:
      self._buffer = self._buffer[keep - self._offset:]
      self._offset = keep
    return out.astype(np.float32)

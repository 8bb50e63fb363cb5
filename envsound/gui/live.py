"""Live listening without Tk: a sound source, and the loop that embeds each 0.96 s on the
server and predicts the environment of the last few seconds.

Sources share sounddevice's blocking ``InputStream`` interface (``samplerate``, ``channels``,
``start``, ``read_available``, ``read(frames) -> (data, overflowed)``, ``stop``, ``close``):
:func:`open_microphone` returns a real one where PortAudio exists; :class:`FileInputStream`
plays an audio file in real time instead (``envsound gui --listen-file``, tests, benches).
The source may run at any rate with any channels; blocks are mixed down and resampled
(``core.audio.StreamResampler``) as they arrive.
"""

import collections
import dataclasses
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from envsound.core import audio, features
from envsound.core.errors import EnvsoundError
from envsound.gui.results import ModelChoice, predict
from envsound.serving import client_audio

BLOCK_SECONDS = 0.02     # read from the source this often
CONTEXT_FRAMES = 5       # predict on the last 4.8 s: recent enough to follow a change
MAX_BACKLOG = 2          # examples waiting: beyond this, older audio is dropped to stay live
STALL_SECONDS = 2.0      # no sound from the source this long counts as the device gone


class SourceGone(EnvsoundError):
  """The sound source stopped delivering: the device disappeared or the file ended."""


def microphone_problem() -> Optional[str]:
  """Why the microphone cannot be used here (one line), or None when it can."""
  try:
    import sounddevice  # pylint: disable=import-outside-toplevel
  except ImportError:
    return 'sounddevice is not installed (pip install sounddevice)'
  except OSError:  # sounddevice raises OSError when the PortAudio library is missing
    return 'PortAudio is not installed (apt-get install libportaudio2)'
  try:
    sounddevice.query_devices(kind='input')
  except (sounddevice.PortAudioError, ValueError) as e:
    return f'no sound input device ({e})'
  return None


def open_microphone(device=None):
  """The default (or ``device``) input as a sounddevice InputStream: 16 kHz mono if the
  device takes it, else its own rate (resampled here).

  Raises:
    SourceGone: the device cannot be opened.
  """
  import sounddevice  # pylint: disable=import-outside-toplevel
  try:
    return sounddevice.InputStream(samplerate=audio.SAMPLE_RATE, channels=1, dtype='float32',
                                   device=device)
  except sounddevice.PortAudioError:
    pass
  try:
    rate = sounddevice.query_devices(device, kind='input')['default_samplerate']
    return sounddevice.InputStream(samplerate=rate, channels=1, dtype='float32', device=device)
  except (sounddevice.PortAudioError, ValueError) as e:
    raise SourceGone(f'cannot open the microphone: {e}') from None


class FileInputStream:
  """An audio file played in real time through sounddevice's blocking InputStream interface.

  ``read`` returns each block when a device would (the file's time since ``start``); at the
  end of the file it raises :class:`SourceGone`, as a disappearing device would fail a read.
  """

  def __init__(self, path):
    import soundfile  # pylint: disable=import-outside-toplevel
    self.path = Path(path)
    try:
      self._data, rate = soundfile.read(str(path), dtype='float32', always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as e:
      raise SourceGone(f'{path}: cannot play: {e}') from None
    self.samplerate, self.channels = float(rate), self._data.shape[1]
    self._position, self._started = 0, None
    self.active = self.closed = False

  def start(self) -> None:
    self._started, self.active = time.monotonic(), True

  @property
  def read_available(self) -> int:
    """Samples that have 'arrived' and not been read; SourceGone once the file is read."""
    if self._position >= len(self._data):
      self.active = False
      raise SourceGone(f'{self.path}: the recording ended (as if the device disappeared)')
    arrived = min(len(self._data), int((time.monotonic() - self._started) * self.samplerate))
    return max(0, arrived - self._position)

  def read(self, frames: int):
    """The next ``frames`` samples ``[frames, channels]`` once they have 'arrived'."""
    if self.closed or not self.active:
      raise SourceGone(f'{self.path}: the stream is not started')
    if self._position >= len(self._data):
      raise SourceGone(f'{self.path}: the recording ended (as if the device disappeared)')
    chunk = self._data[self._position:self._position + frames]
    self._position += len(chunk)
    wait = self._started + self._position / self.samplerate - time.monotonic()
    if wait > 0:
      time.sleep(wait)
    return chunk, False

  def stop(self) -> None:
    self.active = False

  def close(self) -> None:
    self.closed, self.active = True, False


@dataclasses.dataclass
class LiveUpdate:
  """What one 0.96 s of sound gave: the environment of the last few seconds and where
  they sit on the map, with the time the window's last sample arrived."""
  top_class: str
  top_score: float
  xy: Optional[np.ndarray]     # [2] on the shown map, or None without one
  heard_at: float              # time.monotonic() when the window's last sample arrived
  seconds: float               # of sound heard so far
  dropped: int                 # examples skipped to stay live


def read_block(stream, frames: int, job) -> Optional[np.ndarray]:
  """Up to ``frames`` samples ``[n, channels]`` once they are there (fewer after waiting two
  blocks' time, as at the end of a file); None once ``job`` is cancelled.

  Raises:
    SourceGone: the source failed, or gave nothing for STALL_SECONDS.
  """
  started = time.monotonic()
  try:
    while True:
      available, waited = stream.read_available, time.monotonic() - started
      if available >= frames or (available and waited > 2 * frames / stream.samplerate):
        return np.asarray(stream.read(min(frames, available))[0])
      if job.cancelled:
        return None
      if waited > STALL_SECONDS:
        raise SourceGone(f'no sound from the input for {STALL_SECONDS:g} s (device gone?)')
      time.sleep(0.005)
  except SourceGone:
    raise
  except Exception as e:  # pylint: disable=broad-except  (PortAudio's errors: device gone)
    raise SourceGone(f'the microphone stopped: {e}') from None


def listen(stream, client, model: ModelChoice, place: Optional[Callable], job,
           publish: Callable[[LiveUpdate], None],
           vggish_model: str = features.VGGISH_MODEL_NAME) -> float:
  """Reads ``stream`` until ``job`` is cancelled or the source fails; publishes an update
  per example. ``place(results)`` gives map positions. Closes the stream; returns the
  seconds heard.

  Raises:
    SourceGone: the source stopped delivering (device gone, file ended).
    ServingClientError: the server failed.
  """
  resampler = audio.StreamResampler(int(round(stream.samplerate)))
  block = max(1, int(round(stream.samplerate * BLOCK_SECONDS)))
  pending = np.zeros(0, np.float32)
  frames: collections.deque = collections.deque(maxlen=CONTEXT_FRAMES)
  heard = 0.0
  dropped = 0
  stream.start()
  try:
    while not job.cancelled:
      data = read_block(stream, block, job)
      if data is None:
        break
      arrived = time.monotonic()
      pending = np.concatenate([pending, resampler.push(data.mean(axis=1))])
      backlog = audio.num_examples(len(pending))
      if backlog > MAX_BACKLOG:  # the server is slower than the sound: skip to the newest
        skip = backlog - 1
        pending, dropped = pending[skip * audio.EXAMPLE_SAMPLES:], dropped + skip
      if len(pending) < audio.EXAMPLE_SPAN:
        continue
      heard_at = arrived - (len(pending) - audio.EXAMPLE_SPAN) / audio.SAMPLE_RATE
      window, pending = pending[:audio.EXAMPLE_SPAN], pending[audio.EXAMPLE_SAMPLES:]
      frames.append(client_audio.embed_waveform(client, window, vggish_model)[0])
      heard += audio.EXAMPLE_SAMPLES / audio.SAMPLE_RATE
      results = predict(client, model, [np.stack(frames)])
      xy = None if place is None else np.asarray(place(results), np.float32)[0]
      publish(LiveUpdate(results.top_class[0], float(results.top_score[0]), xy, heard_at,
                         heard, dropped))
  finally:
    stream.stop()
    stream.close()
  return heard

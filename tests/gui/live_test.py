"""Listen's sources without Tk or a server: the file stand-in and the stall deadline."""

import types

import numpy as np
import pytest
import soundfile

from envsound.gui import live


def test_the_file_stand_in_delivers_the_file_then_is_gone(tmp_path):
  path = tmp_path / 'two.wav'
  data = np.random.default_rng(2).uniform(-0.5, 0.5, (8000, 2)).astype(np.float32)
  soundfile.write(path, data, 16000, subtype='FLOAT')
  stream = live.FileInputStream(path)
  assert (stream.samplerate, stream.channels) == (16000.0, 2)
  stream.start()
  job, blocks = types.SimpleNamespace(cancelled=False), []
  with pytest.raises(live.SourceGone, match='the recording ended'):
    while True:
      blocks.append(live.read_block(stream, 1000, job))
  np.testing.assert_array_equal(np.concatenate(blocks), data)


class _SilentDevice:
  """An input that opened but never delivers a sample (a device that went away)."""
  samplerate, channels, read_available = 16000.0, 1, 0
  start = stop = close = lambda self: None


def test_an_input_that_stops_delivering_counts_as_gone(monkeypatch):
  monkeypatch.setattr(live, 'STALL_SECONDS', 0.3)
  job = types.SimpleNamespace(cancelled=False)
  with pytest.raises(live.SourceGone, match='no sound from the input for 0.3 s'):
    live.listen(_SilentDevice(), client=None, model=None, place=None, job=job,
                publish=lambda update: None)

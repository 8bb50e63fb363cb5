"""Reading audio files: resampling to 16 kHz, stereo mix-down, and the bad files."""

import numpy as np
import pytest
import soundfile

from envsound.core.errors import EnvsoundError, InvalidInputError
from envsound.core import audio


def tone(rate: int, hz: float, seconds: float, amplitude: float = 0.5) -> np.ndarray:
  t = np.arange(int(round(seconds * rate))) / rate
  return amplitude * np.sin(2 * np.pi * hz * t)


def peak_hz(samples: np.ndarray, rate: int = 16000) -> float:
  spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
  return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize('rate', [8000, 22050, 44100, 48000, 16000])
def test_any_rate_is_resampled_to_16k(tmp_path, rate):
  path = tmp_path / f'tone_{rate}.wav'
  soundfile.write(path, tone(rate, 1000.0, 1.5), rate, subtype='PCM_16')
  samples = audio.read_audio(path)
  assert samples.dtype == np.float32 and abs(len(samples) - 24000) <= 1
  assert abs(peak_hz(samples) - 1000.0) < 2.0
  middle = samples[2000:-2000]  # away from the filter's edges
  assert abs(np.sqrt(np.mean(middle ** 2)) - 0.5 / np.sqrt(2)) < 0.01  # level kept


def test_stereo_is_mixed_down(tmp_path):
  path = tmp_path / 'stereo.flac'
  left, right = tone(44100, 500.0, 1.2, 0.6), tone(44100, 3000.0, 1.2, 0.2)
  soundfile.write(path, np.stack([left, right], axis=1), 44100)
  samples = audio.read_audio(path)
  spectrum = np.abs(np.fft.rfft(samples))
  freqs = np.fft.rfftfreq(len(samples), 1 / 16000)
  at = {hz: spectrum[np.argmin(np.abs(freqs - hz))] for hz in (500.0, 3000.0)}
  assert at[500.0] / at[3000.0] == pytest.approx(3.0, rel=0.05)  # both channels, halved
  assert np.max(np.abs(samples)) == pytest.approx(0.4, abs=0.02)


def test_ogg_reads(tmp_path):
  path = tmp_path / 'clip.ogg'
  soundfile.write(path, tone(22050, 800.0, 1.5), 22050, format='OGG', subtype='VORBIS')
  assert abs(peak_hz(audio.read_audio(path)) - 800.0) < 3.0


def write_bad_files(folder):
  """short.wav, silent.flac, corrupt.wav, unknown.xyz, antiphase.wav (stereo that cancels)."""
  soundfile.write(folder / 'short.wav', tone(16000, 440.0, 0.9), 16000)
  soundfile.write(folder / 'silent.flac', np.zeros(32000), 16000)
  good = folder / 'good.wav'
  soundfile.write(good, tone(16000, 440.0, 1.0), 16000)
  (folder / 'corrupt.wav').write_bytes(good.read_bytes()[:20] + b'\xff' * 200)
  (folder / 'unknown.xyz').write_text('this is not audio\n' * 100)
  antiphase = tone(16000, 440.0, 1.5)
  soundfile.write(folder / 'antiphase.wav', np.stack([antiphase, -antiphase], 1), 16000)
  good.unlink()


@pytest.mark.parametrize('name,match', [
    ('short.wav', r'0\.900 s of audio is shorter than one VGGish example'),
    ('silent.flac', 'silent'),
    ('antiphase.wav', 'silent'),
    ('corrupt.wav', 'cannot decode audio'),
    ('unknown.xyz', 'cannot decode audio'),
])
def test_bad_files_give_one_line_naming_them(tmp_path, name, match):
  write_bad_files(tmp_path)
  with pytest.raises(InvalidInputError, match=match) as error:
    audio.read_audio(tmp_path / name)
  assert str(error.value).startswith(str(tmp_path / name) + ': ')
  assert '\n' not in str(error.value)


def test_folders_expand_recursively_to_audio_files(tmp_path):
  (tmp_path / 'a' / 'b').mkdir(parents=True)
  for rel in ('a/one.wav', 'a/b/two.FLAC', 'a/b/three.ogg'):
    soundfile.write(tmp_path / rel, tone(16000, 440.0, 0.1), 16000)
  (tmp_path / 'a' / 'notes.txt').write_text('x')
  single = tmp_path / 'a' / 'one.wav'
  found = audio.expand_inputs([tmp_path / 'a', single])
  assert [str(rel) for _, rel in found] == ['b/three.ogg', 'b/two.FLAC', 'one.wav']
  with pytest.raises(EnvsoundError, match='no such file or folder'):
    audio.expand_inputs([tmp_path / 'missing.wav'])
  (tmp_path / 'empty').mkdir()
  with pytest.raises(EnvsoundError, match='no audio files'):
    audio.expand_inputs([tmp_path / 'empty'])


@pytest.mark.parametrize('rate', [8000, 22050, 44100, 48000, 16000])
def test_a_stream_resampled_block_by_block_equals_the_whole_signal_resampled(rate):
  signal = np.random.default_rng(rate).uniform(-0.5, 0.5, int(2.5 * rate)).astype(np.float32)
  resampler = audio.StreamResampler(rate)
  blocks = np.array_split(signal, np.cumsum(np.random.default_rng(1).integers(50, 3000, 200)))
  streamed = np.concatenate([resampler.push(b) for b in blocks])
  whole = audio.to_16k(signal, rate)
  assert len(whole) - 40 <= len(streamed) <= len(whole)  # all but the filter's reach
  np.testing.assert_allclose(streamed, whole[:len(streamed)], atol=1e-5)


def test_example_windows_are_the_samples_each_example_reads():
  waveform = np.arange(3 * audio.EXAMPLE_SAMPLES + 300, dtype=np.float32)
  windows = audio.example_windows(waveform)
  assert windows.shape == (3, audio.EXAMPLE_SPAN)
  for k, window in enumerate(windows):
    np.testing.assert_array_equal(window, waveform[k * audio.EXAMPLE_SAMPLES:][:audio.EXAMPLE_SPAN])
  assert audio.example_windows(waveform[:audio.EXAMPLE_SPAN - 1]).shape == (0, audio.EXAMPLE_SPAN)

"""The TensorFlow front end against the numpy reference, on tones and noise."""

import numpy as np
import pytest
import tensorflow as tf

from envsound.vggish import frontend
from tests.vggish import reference

RATE = 16000


def tone(hz: float, seconds: float = 2.0, amplitude: float = 0.5) -> np.ndarray:
  t = np.arange(int(seconds * RATE)) / RATE
  return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def noise(seconds: float = 2.0, seed: int = 0) -> np.ndarray:
  return np.random.default_rng(seed).uniform(-0.5, 0.5, int(seconds * RATE)).astype(np.float32)


def test_mel_matrix_matches_the_published_construction():
  np.testing.assert_allclose(frontend.mel_matrix().numpy(), reference.mel_matrix(), atol=2e-5)


@pytest.mark.parametrize('waveform', [tone(440.0), tone(3000.0, 1.5), noise(), noise(3.0, 1)],
                         ids=['tone440', 'tone3000', 'noise2s', 'noise3s'])
def test_examples_match_numpy_reference(waveform):
  got = frontend.examples(tf.constant(waveform)).numpy()
  want = reference.examples(waveform)
  assert got.shape == want.shape and len(want) >= 1
  np.testing.assert_allclose(got, want, atol=2e-3, rtol=1e-4)


@pytest.mark.parametrize('hz', [200.0, 1000.0, 2500.0, 6000.0])
def test_a_tone_lands_in_the_band_of_its_frequency(hz):
  energy = frontend.examples(tf.constant(tone(hz))).numpy().mean(axis=(0, 1))
  nearest = int(np.argmin(np.abs(reference.band_centers_hz() - hz)))
  assert abs(int(np.argmax(energy)) - nearest) <= 1
  assert energy.max() - np.median(energy) > 3.0  # a clear peak over the other bands


def test_silence_is_the_log_offset():
  got = frontend.examples(tf.zeros([RATE * 1])).numpy()
  np.testing.assert_allclose(got, np.log(0.01), rtol=1e-6)


@pytest.mark.parametrize('samples,expected', [(0, 0), (399, 0), (15599, 0), (15600, 1),
                                              (30959, 1), (30960, 2), (16000 * 3, 3)])
def test_example_count(samples, expected):
  assert frontend.num_examples(samples) == expected
  assert frontend.examples(tf.zeros([samples])).shape[0] == expected


def test_chunks_give_the_examples_of_the_whole_waveform():
  waveform = noise(7.3, seed=2)
  whole = frontend.examples(tf.constant(waveform)).numpy()
  bounds = list(frontend.chunk_bounds(len(waveform), 3))
  assert [b - a for a, b in bounds] == [3 * 15360 + 240, 3 * 15360 + 240, 15600]
  parts = np.concatenate([frontend.examples(tf.constant(waveform[a:b])).numpy()
                          for a, b in bounds])
  np.testing.assert_array_equal(parts, whole)

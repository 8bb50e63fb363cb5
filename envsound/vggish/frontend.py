"""VGGish's front end in TensorFlow: 16 kHz waveform -> log-mel examples of 96 x 64.

STFT magnitudes of 25 ms periodic-Hann windows every 10 ms (FFT 512), 64 HTK-scale mel
bands from 125 to 7,500 Hz (the DC bin weighted 0), ``log(mel + 0.01)``, cut into
non-overlapping 0.96 s examples; a trailing part shorter than one example is dropped.
"""

import tensorflow as tf

from envsound.core import audio
from envsound.vggish import params


def mel_matrix() -> tf.Tensor:
  """float32 ``[257, 64]``: STFT bins -> mel bands (triangles on the HTK mel scale)."""
  return tf.signal.linear_to_mel_weight_matrix(
      num_mel_bins=params.NUM_BANDS, num_spectrogram_bins=params.FFT_LENGTH // 2 + 1,
      sample_rate=params.SAMPLE_RATE, lower_edge_hertz=params.MEL_MIN_HZ,
      upper_edge_hertz=params.MEL_MAX_HZ)


def log_mel(waveform: tf.Tensor) -> tf.Tensor:
  """float32 ``[..., samples]`` -> ``[..., frames, 64]``, one frame per 10 ms hop.

  Fewer than 400 samples are zero-padded to one window (which makes no whole example).
  """
  short = tf.maximum(params.STFT_WINDOW - tf.shape(waveform)[-1], 0)
  padding = tf.concat([tf.zeros([tf.rank(waveform) - 1, 2], tf.int32), [[0, short]]], 0)
  stft = tf.signal.stft(tf.pad(waveform, padding), frame_length=params.STFT_WINDOW,
                        frame_step=params.STFT_HOP, fft_length=params.FFT_LENGTH,
                        window_fn=tf.signal.hann_window, pad_end=False)
  mel = tf.tensordot(tf.abs(stft), mel_matrix(), 1)
  return tf.math.log(mel + params.LOG_OFFSET)


def examples(waveform: tf.Tensor) -> tf.Tensor:
  """float32 ``[..., samples]`` -> ``[..., examples, 96, 64]`` (0.96 s each, no overlap)."""
  return tf.signal.frame(log_mel(waveform), params.EXAMPLE_FRAMES, params.EXAMPLE_FRAMES,
                         axis=-2)


num_examples = audio.num_examples


def chunk_bounds(samples: int, examples_per_chunk: int):
  """``(start, stop)`` sample ranges that give consecutive runs of whole examples.

  Embedding each range separately yields exactly the examples of the whole waveform: a range
  covers ``examples_per_chunk`` example strides plus the 240 samples the last one reads
  beyond its stride.
  """
  total = num_examples(samples)
  for first in range(0, total, examples_per_chunk):
    count = min(examples_per_chunk, total - first)
    start = first * params.EXAMPLE_SAMPLES
    yield start, start + (count - 1) * params.EXAMPLE_SAMPLES + params.EXAMPLE_SPAN

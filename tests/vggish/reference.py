"""An independent numpy VGGish, written from the published parameters, to test against.

Front end: 16 kHz, 25 ms periodic Hann windows every 10 ms, |rfft| of 512 points, 64
triangular bands evenly spaced on the HTK mel scale 1127 ln(1 + f/700) from 125 to 7,500 Hz
(DC bin weighted 0), log(mel + 0.01), 96-frame examples without overlap. Network: 3x3 SAME
convolutions with ReLU, 2x2 max pools, row-major flatten, fully connected layers.
Post-processing: vggish_postprocess's PCA, clip to [-2, 2], (x + 2) * 255 / 4 cast to uint8.
"""

import numpy as np

RATE, WINDOW, HOP, FFT, BANDS, LOW, HIGH = 16000, 400, 160, 512, 64, 125.0, 7500.0


def hz_to_mel(hz):
  return 1127.0 * np.log(1.0 + np.asarray(hz, np.float64) / 700.0)


def mel_matrix() -> np.ndarray:
  """[257, 64] weights from STFT bins (0 .. 8 kHz) to mel bands."""
  bins_mel = hz_to_mel(np.linspace(0.0, RATE / 2, FFT // 2 + 1))
  edges = np.linspace(hz_to_mel(LOW), hz_to_mel(HIGH), BANDS + 2)
  matrix = np.empty((FFT // 2 + 1, BANDS))
  for band in range(BANDS):
    lower, center, upper = edges[band:band + 3]
    rising = (bins_mel - lower) / (center - lower)
    falling = (upper - bins_mel) / (upper - center)
    matrix[:, band] = np.maximum(0.0, np.minimum(rising, falling))
  matrix[0, :] = 0.0
  return matrix


def band_centers_hz() -> np.ndarray:
  mel = np.linspace(hz_to_mel(LOW), hz_to_mel(HIGH), BANDS + 2)[1:-1]
  return 700.0 * (np.exp(mel / 1127.0) - 1.0)


def log_mel(waveform: np.ndarray) -> np.ndarray:
  """[samples] -> [frames, 64]."""
  count = 1 + (len(waveform) - WINDOW) // HOP
  starts = np.arange(count)[:, None] * HOP
  frames = np.asarray(waveform, np.float64)[starts + np.arange(WINDOW)]
  hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WINDOW) / WINDOW)  # periodic
  spectrum = np.abs(np.fft.rfft(frames * hann, FFT))
  return np.log(spectrum @ mel_matrix() + 0.01)


def examples(waveform: np.ndarray) -> np.ndarray:
  """[samples] -> [n, 96, 64]."""
  mel = log_mel(waveform)
  n = len(mel) // 96
  return mel[:n * 96].reshape(n, 96, BANDS)


def _conv3x3(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
  """SAME 3x3 convolution (cross-correlation, as TF's) + bias + ReLU; x is [n, h, w, c]."""
  n, h, w, _ = x.shape
  padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
  out = np.zeros((n, h, w, kernel.shape[-1]), np.float32)
  for dy in range(3):
    for dx in range(3):
      out += padded[:, dy:dy + h, dx:dx + w, :] @ kernel[dy, dx]
  return np.maximum(out + bias, 0.0)


def _pool(x: np.ndarray) -> np.ndarray:
  n, h, w, c = x.shape
  return x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4))


def network(weights, batch: np.ndarray, fc2_relu: bool = False) -> np.ndarray:
  """[n, 96, 64] -> raw [n, 128] with checkpoint variables ``weights``."""
  def layer(scope):
    return weights[f'vggish/{scope}/weights'], weights[f'vggish/{scope}/biases']
  x = batch[..., None].astype(np.float32)
  for group in (['conv1'], ['conv2'], ['conv3/conv3_1', 'conv3/conv3_2'],
                ['conv4/conv4_1', 'conv4/conv4_2']):
    for scope in group:
      x = _conv3x3(x, *layer(scope))
    x = _pool(x)
  x = x.reshape(len(x), -1)
  for scope in ('fc1/fc1_1', 'fc1/fc1_2'):
    kernel, bias = layer(scope)
    x = np.maximum(x @ kernel + bias, 0.0)
  kernel, bias = layer('fc2')
  x = x @ kernel + bias
  return np.maximum(x, 0.0) if fc2_relu else x


def postprocess_float(raw: np.ndarray, eigen_vectors: np.ndarray, means: np.ndarray):
  """PCA then clipping, before quantisation: [n, 128] floats in [-2, 2]."""
  projected = np.dot(eigen_vectors, (raw.T - means.reshape(-1, 1))).T
  return np.clip(projected, -2.0, 2.0)


def quantize(clipped: np.ndarray) -> np.ndarray:
  return ((clipped + 2.0) * (255.0 / 4.0)).astype(np.uint8)

"""``envsound vggish demo-checkpoint``: a random-weight checkpoint and PCA file for demos.

They carry Google's variable and array names, shapes and file formats, so every command that
takes Google's files takes these; the embeddings they give are meaningless.
"""

from pathlib import Path
from typing import Tuple

import numpy as np

from envsound.vggish import checkpoint, params, postprocess

CHECKPOINT_NAME = 'vggish_model.ckpt'
PCA_PARAMS_NAME = 'vggish_pca_params.npz'
GOOGLE_CHECKPOINT_URL = 'https://storage.googleapis.com/audioset/vggish_model.ckpt'
GOOGLE_PCA_PARAMS_URL = 'https://storage.googleapis.com/audioset/vggish_pca_params.npz'
WARNING = ('These are RANDOM weights: the embeddings they give are meaningless. For real '
           f'AudioSet embeddings download Google\'s {GOOGLE_CHECKPOINT_URL} and '
           f'{GOOGLE_PCA_PARAMS_URL}.')


def random_weights(seed: int = 0):
  """He-initialised VGGish variables (biases zero), by checkpoint name."""
  rng = np.random.default_rng(seed)
  weights = {}
  for name, shape in params.variable_shapes().items():
    if name.endswith('/biases'):
      weights[name] = np.zeros(shape, np.float32)
    else:
      fan_in = int(np.prod(shape[:-1]))
      weights[name] = rng.standard_normal(shape, np.float32) * np.float32(np.sqrt(2 / fan_in))
  return weights


def calibration_audio(seed: int = 0, seconds: float = 8.0) -> np.ndarray:
  """16 kHz noise of varying loudness with tones: what the demo PCA is fitted to."""
  rng = np.random.default_rng(seed + 2)
  t = np.arange(int(seconds * params.SAMPLE_RATE)) / params.SAMPLE_RATE
  loudness = 10 ** rng.uniform(-3, -0.5, (len(t) + params.SAMPLE_RATE - 1) // params.SAMPLE_RATE)
  tones = sum(np.sin(2 * np.pi * f * t) for f in rng.uniform(150, 7000, 4)) / 8
  return (rng.standard_normal(len(t)) * np.repeat(loudness, params.SAMPLE_RATE)[:len(t)]
          + tones * (t % 2 < 1)).clip(-1, 1).astype(np.float32)


def calibrated_pca(weights, seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
  """A random rotation scaled, and means set, so that the random network's embeddings of
  ``calibration_audio`` spread over [-2, 2] instead of saturating at 0 and 255."""
  from envsound.vggish import frontend, network  # pylint: disable=import-outside-toplevel
  raw = network.VGGish(weights)(frontend.examples(calibration_audio(seed))).numpy()
  rng = np.random.default_rng(seed + 1)
  q, _ = np.linalg.qr(rng.standard_normal((params.EMBEDDING_DIM, params.EMBEDDING_DIM)))
  means = raw.mean(axis=0)
  scale = 0.7 / max(float((raw - means).std()), 1e-6)
  return (q * scale).astype(np.float32), means.astype(np.float32)


def write_demo_files(out, seed: int = 0) -> Tuple[Path, Path]:
  """Writes ``out/vggish_model.ckpt`` (V1, like Google's) and ``out/vggish_pca_params.npz``."""
  out = Path(out)
  weights = random_weights(seed)
  ckpt = checkpoint.write_checkpoint(out / CHECKPOINT_NAME, weights)
  pca = postprocess.write_pca_params(out / PCA_PARAMS_NAME, *calibrated_pca(weights, seed))
  return ckpt, pca

"""The audio part of ``envsound demo``: a few recordings made here and a VGGish exported
from a random-weight checkpoint into the serving dir, so the server serves it (as ``vggish``,
with warm-up) beside the pushed models and ``envsound predict`` classifies the audio files
directly through it.

Recordings are numpy tones and noises at several sample rates (one stereo), plus speech when
``espeak-ng`` is installed. Every stage is an ``envsound`` command.
"""

import shutil
import subprocess
from pathlib import Path
from typing import List

import numpy as np

from envsound.core import audio, features
from envsound.vggish import demo_files

SECONDS = 3.0
SPEECH = 'The train to the city centre leaves from platform two in five minutes.'


def write_recordings(out) -> List[Path]:
  """Writes the demo's recordings into ``out``; returns their paths."""
  import soundfile  # pylint: disable=import-outside-toplevel
  out = Path(out)
  out.mkdir(parents=True, exist_ok=True)
  rng = np.random.default_rng(0)

  def seconds(rate):
    return np.arange(int(SECONDS * rate)) / rate

  t16, t44 = seconds(16000), seconds(44100)
  sweep = np.sin(2 * np.pi * (200 * t44 + (4000 - 200) / (2 * SECONDS) * t44 ** 2))
  brown = np.cumsum(rng.normal(0, 1, int(SECONDS * 48000)))
  brown = 0.5 * (brown - brown.mean()) / np.abs(brown - brown.mean()).max()
  clicks = np.zeros(int(SECONDS * 8000))
  clicks[::800] = 0.9
  written = {
      'tone_440hz_16k.wav': (0.5 * np.sin(2 * np.pi * 440 * t16), 16000),
      'sweep_stereo_44k.wav': (np.stack([0.4 * sweep, 0.2 * rng.normal(0, 0.3, len(t44))], 1),
                               44100),
      'white_noise_22k.flac': (rng.uniform(-0.5, 0.5, int(SECONDS * 22050)), 22050),
      'brown_noise_48k.ogg': (brown, 48000),
      'clicks_8k.wav': (clicks, 8000),
  }
  paths = []
  for name, (samples, rate) in written.items():
    soundfile.write(out / name, samples, rate)
    paths.append(out / name)
  espeak = shutil.which('espeak-ng')
  if espeak:
    speech = out / 'speech_espeak.wav'
    subprocess.run([espeak, '-w', str(speech), SPEECH], check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    paths.append(speech)
  return paths


def stages(workdir: Path, serving_dir: Path) -> List[List[str]]:
  """The envsound commands that make the recordings and export the demo VGGish to
  ``serving_dir/vggish`` (before the server starts)."""
  ckpt, model = workdir / 'vggish-random', serving_dir / features.VGGISH_MODEL_NAME
  commands = []
  if not (ckpt / demo_files.CHECKPOINT_NAME).exists():
    commands.append(['vggish', 'demo-checkpoint', '--out', str(ckpt)])
  if not any(p.name.isdigit() for p in model.glob('*')):
    commands.append(['vggish', 'export', '--checkpoint', str(ckpt / demo_files.CHECKPOINT_NAME),
                     '--pca-params', str(ckpt / demo_files.PCA_PARAMS_NAME), '--out',
                     str(model)])
  commands.append(['vggish', 'demo-audio', '--out', str(workdir / 'recordings')])
  return commands


def predict_command(workdir: Path, target: str, model: str) -> List[str]:
  """``envsound predict`` on the recordings: the server's VGGish embeds them."""
  files = sorted(str(p) for p in (workdir / 'recordings').iterdir() if audio.is_audio(p))
  return ['predict', '--server', target, '--model', model, '--top', '2', *files]

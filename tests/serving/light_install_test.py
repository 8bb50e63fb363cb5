"""The light client install: a fresh virtual environment with only `pip install envsound`
(no extra) runs `envsound predict` against a running server, without TensorFlow installed.

It builds the package from this checkout (generating envsound_wire) and installs the core
dependencies from PyPI (or uv's cache): a minute or two the first time.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from envsound.core import features
from envsound.serving.client import Client

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
MODEL = 'cnn1d_balanced'
INSTALL_TIMEOUT_S = 900


def _run(argv, cwd, timeout=120):
  env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV')}
  return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout,
                        check=False, cwd=cwd, env=env)


@pytest.fixture(scope='module')
def light_venv(tmp_path_factory):
  uv = Path(sys.executable).with_name('uv')
  assert uv.exists(), f'{uv} is missing: make setup installs it'
  venv = tmp_path_factory.mktemp('light') / 'venv'
  made = _run([uv, 'venv', '--quiet', '--python', sys.executable, venv], venv.parent)
  assert made.returncode == 0, made.stderr
  installed = _run([uv, 'pip', 'install', '--quiet', '--python', venv / 'bin' / 'python', ROOT],
                   venv.parent, timeout=INSTALL_TIMEOUT_S)
  assert installed.returncode == 0, installed.stderr[-3000:]
  return venv


def test_the_light_install_has_no_tensorflow(light_venv):
  probe = _run([light_venv / 'bin' / 'python', '-c',
                'import importlib.util as u; print([m for m in ("tensorflow", "tfx", '
                '"apache_beam", "tensorflow_serving") if u.find_spec(m)])'], light_venv)
  assert probe.returncode == 0 and probe.stdout.strip() == '[]', probe.stderr


def test_envsound_predict_runs_from_the_light_install(light_venv, server, tmp_path):
  rng = np.random.default_rng(9)
  clips = [rng.integers(0, 256, (n, features.EMBEDDING_DIM), np.uint8) for n in (10, 5)]
  paths = []
  for i, clip in enumerate(clips):
    paths.append(tmp_path / f'clip{i}.npy')
    np.save(paths[-1], clip)
  run = _run([light_venv / 'bin' / 'envsound', 'predict', '--server', server.grpc_target,
              '--model', MODEL, '--json', *paths], tmp_path)
  assert run.returncode == 0, run.stderr[-3000:]
  with Client(server.grpc_target) as client:
    expected = client.predict(MODEL, clips)
  rows = json.loads(run.stdout)['predictions']
  assert [r['clip'] for r in rows] == [str(p) for p in paths]
  assert [r['top_class'] for r in rows] == expected.top_class
  assert [r['top_score'] for r in rows] == pytest.approx(expected.top_score, abs=1e-4)


def test_a_pipeline_command_names_the_extra_it_needs(light_venv, tmp_path):
  run = _run([light_venv / 'bin' / 'envsound', 'serve', f'--model_base_path={tmp_path}'],
             tmp_path)
  assert run.returncode == 1
  lines = run.stderr.strip().splitlines()
  assert len(lines) == 1 and re.fullmatch(
      r"envsound: error: `envsound serve` needs the pipeline extra \(no module tensorflow\S*\): "
      r"pip install 'envsound\[pipeline\]'", lines[0]), run.stderr[-2000:]


def test_envsound_predict_takes_audio_files_from_the_light_install(light_venv, audio_server,
                                                                   tmp_path):
  import soundfile  # pylint: disable=import-outside-toplevel
  from tests.support.vggish import CLASSIFIER  # pylint: disable=import-outside-toplevel
  wav = tmp_path / 'stereo.wav'
  t = np.arange(int(2.0 * 48000)) / 48000
  soundfile.write(wav, np.stack([0.5 * np.sin(2 * np.pi * 500 * t), 0.1 * np.cos(t)], 1), 48000)
  run = _run([light_venv / 'bin' / 'envsound', 'predict', '--server', audio_server.grpc_target,
              '--model', CLASSIFIER, '--json', wav], tmp_path)
  assert run.returncode == 0, run.stderr[-3000:]
  assert [r['clip'] for r in json.loads(run.stdout)['predictions']] == [str(wav)]

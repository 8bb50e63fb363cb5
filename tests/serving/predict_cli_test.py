"""``envsound predict`` as a user runs it: a subprocess against the session server.

The module starts its server-bound runs at once and each test reads its own; bad files fail
before any call. Two more error paths run in this process, through the same ``envsound``
entry point.
"""

import json
import os
import subprocess
import sys
from concurrent import futures

import numpy as np
import pytest

from envsound import cli
from envsound.core import features
from envsound.serving.client import Client
from tests.serving.conftest import CLASSES
from tests.support.ports import free_port

pytestmark = pytest.mark.integration

MODEL = 'cnn1d_balanced'


# As a user runs it: without the test suite's TF_CPP_MIN_LOG_LEVEL (envsound sets its own).
ENV = {k: v for k, v in os.environ.items() if k != 'TF_CPP_MIN_LOG_LEVEL'}


def _envsound(*args, timeout=300):
  return subprocess.run([sys.executable, '-m', 'envsound', 'predict', *map(str, args)],
                        capture_output=True, text=True, timeout=timeout, check=False, env=ENV)


@pytest.fixture(scope='module')
def clips(tmp_path_factory):
  """Three clips as files: uint8, float32 and a short uint8 one."""
  folder = tmp_path_factory.mktemp('clips')
  rng = np.random.default_rng(3)
  arrays = {'rain.npy': rng.integers(0, 256, (10, features.EMBEDDING_DIM), np.uint8),
            'street.npy': rng.uniform(-2, 2, (10, features.EMBEDDING_DIM)).astype(np.float32),
            'short.npy': rng.integers(0, 256, (6, features.EMBEDDING_DIM), np.uint8)}
  paths = []
  for name, array in arrays.items():
    np.save(folder / name, array)
    paths.append(folder / name)
  return paths


@pytest.fixture(scope='module')
def runs(server, clips):
  """The runs that reach a server (or try to), started together."""
  dead = f'127.0.0.1:{free_port()}'
  commands = {
      'table': ['--server', server.grpc_target, '--model', MODEL, '--top', '2', *clips],
      'json': ['--server', server.grpc_target, '--model', MODEL, '--label', 'stable',
               '--top', '3', '--json', *clips],
      'dead server': ['--server', dead, '--model', MODEL, clips[0]],
  }
  with futures.ThreadPoolExecutor(len(commands)) as pool:
    done = {name: pool.submit(_envsound, *args) for name, args in commands.items()}
    results = {name: future.result() for name, future in done.items()}
  results['dead target'] = dead
  return results


def _expected(server, clips, **kwargs):
  with Client(server.grpc_target) as client:
    return client.predict(MODEL, [np.load(p) for p in clips], **kwargs)


def test_table_has_the_version_and_one_row_per_clip(runs, server, clips):
  run = runs['table']
  assert run.returncode == 0, run.stderr
  expected = _expected(server, clips)
  lines = run.stdout.splitlines()
  assert lines[0] == f'model {MODEL} version 2'
  assert len(lines) == 1 + len(clips)
  for path, line, probabilities in zip(clips, lines[1:], expected.probabilities):
    name, classes = line.split(maxsplit=1)
    assert name == str(path)
    shown = [pair.rsplit(' ', 1) for pair in classes.split(', ')]
    order = np.argsort(-probabilities)[:2]
    assert [c for c, _ in shown] == [CLASSES[j] for j in order]
    assert [float(score) for _, score in shown] == pytest.approx(probabilities[order], abs=2e-3)


def test_json_has_the_rows_and_the_labelled_version(runs, server, clips):
  run = runs['json']
  assert run.returncode == 0, run.stderr
  data = json.loads(run.stdout)
  expected = _expected(server, clips, label='stable')
  assert (data['model'], data['version']) == (MODEL, 1)
  assert [row['clip'] for row in data['predictions']] == [str(p) for p in clips]
  for row, top_class, probabilities in zip(data['predictions'], expected.top_class,
                                           expected.probabilities):
    assert row['top_class'] == top_class
    assert row['top_score'] == pytest.approx(probabilities.max(), abs=1e-4)
    assert [name for name, _ in row['top']] == [CLASSES[j] for j in np.argsort(-probabilities)]
    assert [score for _, score in row['top']] == pytest.approx(
        sorted(probabilities, reverse=True), abs=1e-4)


def _one_line_error(run):
  assert run.returncode == 1
  assert 'Traceback' not in run.stderr
  lines = run.stderr.strip().splitlines()
  assert len(lines) == 1, run.stderr
  assert lines[0].startswith('envsound: error: ')
  return lines[0]


def test_dead_server_is_a_one_line_error(runs):
  line = _one_line_error(runs['dead server'])
  assert f'{runs["dead target"]}, model {MODEL}: unavailable after up to' in line


def _in_process(capsys, *args):
  code = cli.main(['predict', *map(str, args)])
  out, err = capsys.readouterr()
  return subprocess.CompletedProcess(args, code, out, err)


def test_unknown_model_is_a_one_line_error(capsys, server, clips):
  run = _in_process(capsys, '--server', server.grpc_target, '--model', 'nope', clips[0])
  line = _one_line_error(run)
  assert line.startswith(f'envsound: error: {server.grpc_target}, model nope: Servable not found')


def test_a_clip_of_the_wrong_shape_is_a_one_line_error_naming_its_file(capsys, tmp_path, clips):
  flat = tmp_path / 'flat.npy'
  np.save(flat, np.zeros(features.EMBEDDING_DIM, np.uint8))
  run = _in_process(capsys, '--server', f'127.0.0.1:{free_port()}', '--model', MODEL,
                    clips[0], flat)
  line = _one_line_error(run)
  assert line.startswith(f'envsound: error: {flat}: shape (128,), expected')
  assert run.stdout == ''


@pytest.mark.parametrize('name,write,reason', [
    ('pickled.npy', lambda p: np.save(p, np.array([{'a': 1}], dtype=object), allow_pickle=True),
     'not a plain .npy array'),
    ('notes.txt', lambda p: p.write_text('rain, 10 s\n'), 'not a plain .npy array'),
    ('missing.npy', lambda p: None, 'No such file'),
    ('loud.npy', lambda p: np.save(p, np.full((10, features.EMBEDDING_DIM), 3.0, np.float32)),
     'outside VGGish'),
])
def test_a_bad_file_is_a_one_line_error_naming_it(tmp_path, clips, name, write, reason):
  bad = tmp_path / name
  write(bad)
  # The server is never reached: a bad file stops the run before any call.
  run = _envsound('--server', f'127.0.0.1:{free_port()}', '--model', MODEL,
                  clips[0], bad, clips[1])
  line = _one_line_error(run)
  assert line.startswith(f'envsound: error: {bad}: ') and reason in line
  assert run.stdout == ''

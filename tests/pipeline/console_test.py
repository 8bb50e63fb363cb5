"""``envsound pipeline run``'s console on a tiny run: component lines, quiet, a log file.

The command runs as a subprocess, as a user starts it: once to run every component, and
once with ``--verbose`` on a release whose validation split is an empty file (ingestion
fails at the first component).
"""

import pathlib
import re
import subprocess
import sys

import pytest

from envsound.audioset import sample
from envsound.core import approaches

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]  # a few minutes on 2 idle cores
APPROACH = approaches.APPROACHES[0].name
_LIBRARY_NOISE = re.compile(r'WARNING|absl|tensorflow|Error importing|deprecat|Epoch \d',
                            re.IGNORECASE)


def _envsound(*args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, '-m', 'envsound', *args], cwd=cwd, text=True,
                        capture_output=True, timeout=1500, check=False)


def _run_args(data: pathlib.Path, tmp: pathlib.Path, *extra: str):
  return ('pipeline', 'run', '--data', str(data), '--pipeline-root', str(tmp / 'root'),
          '--serving-dir', str(tmp / 'serving'), '--approaches', APPROACH, '--max-clips', '1000',
          '--epochs', '1', '--min-accuracy', '0', *extra)


def _component_lines(stdout: str):
  """{component id: [status or '...']} from the '[i/n] <id>  <status> ...' lines."""
  out = {}
  for match in re.finditer(r'^\[\s*\d+/\d+\] (\S+)\s+(\.\.\.|ran|cached|failed)(?!\w)(.*)$',
                           stdout, re.MULTILINE):
    out.setdefault(match[1], []).append((match[2], match[3]))
  return out


def _expected_components(data: pathlib.Path, tmp: pathlib.Path):
  # pylint: disable=import-outside-toplevel
  import argparse
  from envsound.pipeline import cli, pipeline
  parser = argparse.ArgumentParser()
  cli.register(parser.add_subparsers())
  cfg = cli.make_config(parser.parse_args(list(_run_args(data, tmp))), cloud=False)
  return [c.id for c in pipeline.create_pipeline(cfg).components]


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
  """(tmp, release, the quiet full run, the verbose failing run)."""
  tmp = tmp_path_factory.mktemp('console')
  data = tmp / 'audioset'
  # 3,000 clips: every environment keeps a few training clips for the reference's folds
  sample.generate_release(data, 3000, seed=1, progress=False)
  first = _envsound(*_run_args(data, tmp), cwd=tmp)
  broken = tmp / 'broken'
  broken.mkdir()
  for item in data.iterdir():
    if item.name != 'eval':
      (broken / item.name).symlink_to(item)
  (broken / 'eval').mkdir()
  (broken / 'eval' / 'empty.tfrecord').write_bytes(b'')
  failed = _envsound(*_run_args(broken, tmp / 'failing', '--verbose'), cwd=tmp)
  return tmp, data, first, failed


def test_each_component_prints_a_start_and_an_end_line_with_its_counts(runs):
  tmp, data, first, _ = runs
  assert first.returncode == 0, first.stdout + first.stderr
  lines = _component_lines(first.stdout)
  expected = _expected_components(data, tmp)
  assert sorted(lines) == sorted(expected)
  for component in expected:
    assert [status for status, _ in lines[component]] == ['...', 'ran'], component
  details = {component: lines[component][1][1] for component in expected}
  assert re.search(r'train: kept [\d,]+, dropped [\d,]+ \(.*unassigned', details[
      f'ExampleGen_{approaches.BALANCED}'])
  assert re.search(r'examples transformed: train [\d,]+, eval [\d,]+',
                   details[f'Transform_{approaches.BALANCED}'])
  assert '1 epoch(s), validation accuracy' in details[f'Trainer_{APPROACH}']
  assert re.search(r'\bblessed: ', details[f'QualityGate_{APPROACH}'])
  assert 'pushed version' in details[f'Pusher_{APPROACH}']


def test_library_logs_go_to_the_log_file_named_first(runs):
  _, _, first, _ = runs
  head = first.stdout.splitlines()[0]
  log = pathlib.Path(re.search(r'full log in (\S+)', head)[1])
  text = log.read_text(encoding='utf-8')
  assert 'Component Trainer_' in text and 'is finished.' in text  # absl's INFO lines
  assert 'does not have payload_format' not in text  # fixed at the cause, not hidden
  assert 'Error importing' not in text
  console = first.stdout.split('\nData checks:')[0]
  noisy = [line for line in (console + first.stderr).splitlines() if _LIBRARY_NOISE.search(line)]
  assert not noisy, noisy


def test_a_failed_component_prints_its_error_and_the_log(runs):
  _, _, _, failed = runs
  assert failed.returncode == 1, failed.stdout + failed.stderr
  lines = _component_lines(failed.stdout)
  assert lines[f'ExampleGen_{approaches.BALANCED}'][-1][0] == 'failed'
  assert 'ingestion kept no eval clips' in failed.stdout
  log = re.search(r'full log: (\S+\.log)', failed.stdout)[1]
  assert 'Traceback' in pathlib.Path(log).read_text(encoding='utf-8')
  assert 'Traceback' not in failed.stdout


def test_verbose_shows_library_logs_live(runs):
  _, _, _, failed = runs
  assert re.search(r'INFO .*Component ExampleGen_\w+ is running\.', failed.stderr)

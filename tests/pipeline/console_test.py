"""``envsound pipeline run``'s console: component lines, quiet, a log file.

The console read is the pipeline stage of the session's ``envsound demo`` (a subprocess, as
a user starts it); one more run, with ``--verbose``, is on a release whose validation split
is an empty file (ingestion fails at the first component).
"""

import pathlib
import re

import pytest

from envsound.core import approaches
from envsound.pipeline import pipeline as pipeline_lib
from tests.support.pipeline_cli import envsound, pipeline_config

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]  # a few minutes on 2 idle cores
_LIBRARY_NOISE = re.compile(r'WARNING|absl|tensorflow|Error importing|deprecat|Epoch \d',
                            re.IGNORECASE)


def _component_lines(stdout: str):
  """{component id: [(status or '...', details)]} from the '[i/n] <id>  <status> ...' lines."""
  out = {}
  stdout = re.sub(r'\n {20,}', ' ', stdout)  # a long line's wrapped continuation
  for match in re.finditer(r'^\[\s*\d+/\d+\] (\S+)\s+(\.\.\.|ran|cached|failed)(?!\w)(.*)$',
                           stdout, re.MULTILINE):
    out.setdefault(match[1], []).append((match[2], match[3]))
  return out


@pytest.fixture(scope='module')
def runs(demo, tmp_path_factory):
  """(the demo's pipeline command, what it printed, the verbose failing run)."""
  argv = demo.command('pipeline run')
  data = pathlib.Path(pipeline_config(argv).data_root)
  tmp = tmp_path_factory.mktemp('console')
  broken = tmp / 'broken'
  broken.mkdir()
  for item in data.iterdir():
    if item.name != 'eval':
      (broken / item.name).symlink_to(item)
  (broken / 'eval').mkdir()
  (broken / 'eval' / 'empty.tfrecord').write_bytes(b'')
  failed = envsound('pipeline', 'run', '--data', str(broken), '--pipeline-root',
                    str(tmp / 'root'), '--serving-dir', str(tmp / 'serving'), '--approaches',
                    approaches.APPROACHES[0].name, '--epochs', '1', '--verbose', cwd=tmp)
  return argv, demo.stage_output('pipeline run'), failed


def test_each_component_prints_a_start_and_an_end_line_with_its_counts(runs):
  argv, console, _ = runs
  lines = _component_lines(console)
  expected = [c.id for c in pipeline_lib.create_pipeline(pipeline_config(argv)).components]
  assert sorted(lines) == sorted(expected)
  for component in expected:
    assert [status for status, _ in lines[component]] == ['...', 'ran'], component
  details = {component: lines[component][1][1] for component in expected}
  assert re.search(r'train: kept [\d,]+, dropped [\d,]+ \(.*unassigned', details[
      f'ExampleGen_{approaches.BALANCED}'])
  transformed = details[f'Transform_{approaches.BALANCED}']
  assert 'examples transformed: ' in transformed, transformed
  for split in ('train', 'eval'):
    assert re.search(rf'\b{split} [1-9][\d,]*', transformed), transformed
  for approach in approaches.APPROACHES:
    name = approach.name
    assert '1 epoch(s), validation accuracy' in details[f'Trainer_{name}']
    assert 'TFMA thresholds met' in details[f'Evaluator_{name}']
    assert re.search(r'(?<!not )\bblessed: accuracy [\d.]+, at least --min- ?accuracy 0\.000',
                     details[f'QualityGate_{name}'])
    assert re.search(r'pushed version \d+ to ', details[f'Pusher_{name}'])


def test_library_logs_go_to_the_log_file_named_first(runs, demo):
  _, console, _ = runs
  head = console.splitlines()[0]
  log = pathlib.Path(re.search(r'full log in (\S+)', head)[1])
  text = log.read_text(encoding='utf-8')
  assert 'Component Trainer_' in text and 'is finished.' in text  # absl's INFO lines
  assert 'does not have payload_format' not in text  # fixed at the cause, not hidden
  assert 'Error importing' not in text
  components = console.split('\nData checks')[0]
  noisy = [line for line in (components + '\n' + demo.stderr).splitlines()
           if _LIBRARY_NOISE.search(line)]
  assert not noisy, noisy


def test_a_failed_component_prints_its_error_and_the_log(runs):
  _, _, failed = runs
  assert failed.returncode == 1, failed.stdout + failed.stderr
  lines = _component_lines(failed.stdout)
  assert lines[f'ExampleGen_{approaches.BALANCED}'][-1][0] == 'failed'
  assert 'ingestion kept no eval clips' in failed.stdout
  log = re.search(r'full log: (\S+\.log)', failed.stdout)[1]
  assert 'Traceback' in pathlib.Path(log).read_text(encoding='utf-8')
  assert 'Traceback' not in failed.stdout


def test_verbose_shows_library_logs_live(runs):
  _, _, failed = runs
  assert re.search(r'INFO .*Component ExampleGen_\w+ is running\.', failed.stderr)

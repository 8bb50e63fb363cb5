"""Tests for ``envsound data sample|inspect|export`` (envsound.audioset.cli)."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from envsound import cli
from envsound.core import features
from tests.audioset.conftest import good_clips, tiny_release, write_records

ENVSOUND = Path(sys.executable).parent / 'envsound'


def _run(capsys, *argv):
  status = cli.main(['data', *map(str, argv)])
  out, err = capsys.readouterr()
  return status, out, err


def _one_line_error(err: str) -> str:
  lines = [l for l in err.splitlines() if l.strip()]
  assert len(lines) == 1 and lines[0].startswith('envsound: error: '), err
  assert 'Traceback' not in err
  return lines[0]


def _class_rows(report: str) -> int:
  return sum(line.startswith(('  /m/', '  /t/')) for line in report.splitlines())


def test_sample_inspect_export(tmp_path, capsys):
  data, npy = tmp_path / 'audioset', tmp_path / 'npy'
  status, out, _ = _run(capsys, 'sample', '--out', data, '--clips', 120, '--seed', 4)
  assert status == 0 and 'Wrote a sample AudioSet release' in out and '120 clips' in out
  status, out, _ = _run(capsys, 'inspect', data)
  assert status == 0
  for heading in ('bal_train', 'unbal_train', 'Clips per AudioSet class: top 25 of',
                  '--all-classes', 'Clips per environment', 'speech_crowd', '(unassigned)',
                  'Frames per clip', 'Problems: none'):
    assert heading in out
  assert _class_rows(out) == 25
  status, out, _ = _run(capsys, 'inspect', data, '--all-classes')
  assert status == 0 and _class_rows(out) > 25
  status, out, _ = _run(capsys, 'export', data, '--out', npy, '--splits', 'eval,bal_train')
  assert status == 0 and 'eval/' in out
  assert sorted(p.name for p in npy.iterdir()) == ['balanced', 'eval']
  with open(npy / 'eval' / 'manifest.csv', newline='', encoding='utf-8') as f:
    assert len(list(csv.DictReader(f))) == 12


def test_existing_output_needs_overwrite(tmp_path, capsys):
  root = tiny_release(tmp_path / 'r')
  (tmp_path / 'out').mkdir()
  status, _, err = _run(capsys, 'export', root, '--out', tmp_path / 'out')
  assert status == 1 and 'already exists (pass --overwrite' in _one_line_error(err)
  status, _, _ = _run(capsys, 'export', root, '--out', tmp_path / 'out', '--overwrite')
  assert status == 0 and (tmp_path / 'out' / 'eval' / 'manifest.csv').exists()
  status, _, err = _run(capsys, 'sample', '--out', root, '--clips', 10)
  assert status == 1 and '--overwrite' in _one_line_error(err)


@pytest.mark.parametrize('command', ['inspect', 'export'])
def test_bad_release_layout(tmp_path, capsys, command):
  extra = ['--out', tmp_path / 'out'] if command == 'export' else []
  status, _, err = _run(capsys, command, tmp_path / 'missing', *extra)
  assert status == 1
  assert _one_line_error(err) == f'envsound: error: {tmp_path / "missing"}: no such folder'
  root = tiny_release(tmp_path / 'r')
  (root / features.CLASS_CSV).write_text('index,mid\n')
  status, _, err = _run(capsys, command, root, *extra)
  assert status == 1 and str(root / features.CLASS_CSV) in _one_line_error(err)


@pytest.mark.parametrize('command', ['inspect', 'export'])
def test_bad_record_stops_or_is_skipped(tmp_path, capsys, command):
  root = tiny_release(tmp_path / 'r')
  bad = root / 'eval' / 'c.tfrecord'
  write_records(bad, good_clips(2) + [b'\x00\x01junk'])
  extra = ['--out', tmp_path / 'out'] if command == 'export' else []
  status, _, err = _run(capsys, command, root, *extra)
  assert status == 1
  assert f'{bad}, record 2: not a SequenceExample' in _one_line_error(err)
  status, out, _ = _run(capsys, command, root, *extra, '--skip-invalid')
  assert status == 0
  assert 'not_sequence_example 1' in out and f'{bad}, record 2: ' in out


def test_installed_command_prints_one_line_without_traceback(tmp_path):
  root = tiny_release(tmp_path / 'r')
  (root / 'eval' / 'a.tfrecord').write_bytes(b'not a tfrecord file')
  proc = subprocess.run([str(ENVSOUND), 'data', 'inspect', str(root)], capture_output=True,
                        text=True, timeout=120, check=False)
  assert proc.returncode == 1 and proc.stdout == ''
  assert 'Traceback' not in proc.stderr
  errors = [l for l in proc.stderr.splitlines() if l.startswith('envsound:')]
  assert errors == [f'envsound: error: {root / "eval" / "a.tfrecord"}, record 0: not a '
                    'TFRecord file (bad length checksum at byte 0)']


def test_help_is_fast_and_does_not_load_tensorflow():
  code = ('import sys; from envsound import cli; p = cli.build_parser(); '
          'p.parse_args(["data", "export", "d", "--out", "o"]); '
          'print("tensorflow" in sys.modules)')
  proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                        timeout=60, check=True, env=dict(os.environ))
  assert proc.stdout.strip() == 'False'
  for command in ('sample', 'inspect', 'export'):
    with pytest.raises(SystemExit) as done:
      cli.main(['data', command, '--help'])
    assert done.value.code == 0


def test_sample_takes_per_split_sizes(tmp_path, capsys):
  data = tmp_path / 'audioset'
  status, out, _ = _run(capsys, 'sample', '--out', data, '--bal', 7, '--unbal', 1003,
                        '--eval', 5)
  assert status == 0 and '1,015 clips' in out
  files = {split: sorted(p.name for p in (data / split).iterdir())
           for split in ('bal_train', 'unbal_train', 'eval')}
  assert files == {'bal_train': ['0000.tfrecord'], 'eval': ['0000.tfrecord'],
                   'unbal_train': ['0000.tfrecord', '0001.tfrecord']}
  rows = {line.split()[0]: line.split()[1] for line in out.splitlines()[2:5]}
  assert rows == {'bal_train': '7', 'unbal_train': '1,003', 'eval': '5'}
  status, _, err = _run(capsys, 'sample', '--out', tmp_path / 'b', '--bal', 7, '--eval', 5)
  assert status == 1 and '--bal, --unbal and --eval' in _one_line_error(err)
  status, _, err = _run(capsys, 'sample', '--out', tmp_path / 'c', '--clips', 9, '--bal', 7,
                        '--unbal', 1, '--eval', 5)
  assert status == 1 and 'not both' in _one_line_error(err)
  status, _, err = _run(capsys, 'sample', '--out', tmp_path / 'd', '--bal', 0, '--unbal', 1,
                        '--eval', 5)
  assert status == 1 and 'bal_train 0' in _one_line_error(err)

"""Atomic writes: a failed write leaves the previous file (or nothing), never a partial one."""

import pytest

from envsound.core import atomic


def test_a_failed_write_keeps_the_previous_file(tmp_path):
  target = tmp_path / 'out' / 'counts.json'
  with atomic.atomic_file(target, 'w') as f:
    f.write('old')
  with pytest.raises(RuntimeError):
    with atomic.atomic_file(target, 'w') as f:
      f.write('half')
      raise RuntimeError('interrupted')
  assert target.read_text() == 'old'
  assert [p.name for p in target.parent.iterdir()] == ['counts.json']


def test_atomic_path_renames_what_was_written_by_name(tmp_path):
  target = tmp_path / 'records.bin'
  with atomic.atomic_path(target) as tmp:
    assert not target.exists()
    with open(tmp, 'wb') as f:
      f.write(b'data')
  assert target.read_bytes() == b'data'
  assert [p.name for p in tmp_path.iterdir()] == ['records.bin']

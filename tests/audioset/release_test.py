"""Tests for locating a release (envsound.audioset.release)."""

import pytest

from envsound.audioset.release import GOOGLE_FOLDER, find_release
from envsound.core import features
from envsound.core.errors import InvalidInputError
from tests.audioset.conftest import tiny_release, write_class_csv


def test_sample_layout(sample_release):
  release = find_release(sample_release)
  assert release.root == sample_release
  assert release.class_csv == sample_release / features.CLASS_CSV
  assert release.splits == features.SPLITS
  assert len(release.class_labels) == 527
  assert [p.name for p in release.files['bal_train']] == ['0000.tfrecord', '0001.tfrecord']


def test_present_splits_only_and_other_files_ignored(tmp_path):
  root = tiny_release(tmp_path / 'r', splits=('eval',))
  (root / 'eval' / 'README.txt').write_text('not a record file')
  release = find_release(root)
  assert release.splits == ('eval',)
  assert [p.name for p in release.split_files('eval')] == ['a.tfrecord', 'b.tfrecord']
  with pytest.raises(InvalidInputError, match=r'no bal_train/ split here \(present: eval\)'):
    release.split_files('bal_train')


@pytest.mark.parametrize('csv_place', ['root', 'inside'])
def test_googles_unpacked_layout(tmp_path, csv_place):
  root = tmp_path / 'download'
  tiny_release(root / GOOGLE_FOLDER)
  (root / GOOGLE_FOLDER / features.CLASS_CSV).unlink()
  csv = root / features.CLASS_CSV if csv_place == 'root' else \
      root / GOOGLE_FOLDER / features.CLASS_CSV
  write_class_csv(csv)
  release = find_release(root)
  assert release.root == root / GOOGLE_FOLDER and release.class_csv == csv
  assert release.splits == ('bal_train', 'eval')


def test_google_folder_given_with_the_csv_beside_it(tmp_path):
  tiny_release(tmp_path / GOOGLE_FOLDER)
  (tmp_path / GOOGLE_FOLDER / features.CLASS_CSV).rename(tmp_path / features.CLASS_CSV)
  release = find_release(tmp_path / GOOGLE_FOLDER)
  assert release.class_csv == tmp_path / features.CLASS_CSV


def _error(path) -> InvalidInputError:
  with pytest.raises(InvalidInputError) as error:
    find_release(path)
  return error.value


def test_missing_folder_and_file_instead_of_folder(tmp_path):
  assert str(_error(tmp_path / 'nope')) == f'{tmp_path / "nope"}: no such folder'
  (tmp_path / 'file').write_text('x')
  assert 'not a folder' in str(_error(tmp_path / 'file'))


def test_no_splits(tmp_path):
  write_class_csv(tmp_path / features.CLASS_CSV)
  error = _error(tmp_path)
  assert error.path == str(tmp_path) and 'no AudioSet split folders' in error.reason


def test_empty_split_folder(tmp_path):
  root = tiny_release(tmp_path, splits=('eval',))
  (root / 'unbal_train').mkdir()
  error = _error(root)
  assert error.path == str(root / 'unbal_train') and 'no *.tfrecord files' in error.reason


def test_split_that_is_a_file(tmp_path):
  root = tiny_release(tmp_path, splits=('eval',))
  (root / 'bal_train').write_text('x')
  assert _error(root).path == str(root / 'bal_train')


def test_missing_class_list(tmp_path):
  root = tiny_release(tmp_path)
  (root / features.CLASS_CSV).unlink()
  error = _error(root)
  assert error.path == str(root / features.CLASS_CSV) and 'missing class list' in error.reason


@pytest.mark.parametrize('text', ['', 'idx,mid,name\n0,/m/a,A\n', 'index,mid,display_name\n',
                                  'index,mid,display_name\n1,/m/a,A\n'])
def test_malformed_class_list(tmp_path, text):
  root = tiny_release(tmp_path)
  (root / features.CLASS_CSV).write_text(text)
  assert _error(root).path == str(root / features.CLASS_CSV)

"""The .npy rule: each bad case is rejected with a reason, the good files still load."""

import pickle

import numpy as np
import pytest

from envsound.gui import loader


def _save(path, array):
  np.save(path, array, allow_pickle=True)
  return path


@pytest.fixture
def good(tmp_path):
  rng = np.random.default_rng(0)
  return [_save(tmp_path / 'a.npy', rng.integers(0, 256, (10, 128), dtype=np.uint8)),
          _save(tmp_path / 'b.npy', rng.uniform(-2, 2, (7, 128)).astype(np.float64))]


@pytest.mark.parametrize('name,make,reason', [
    ('pickled.npy', lambda p: _save(p, np.array([{'a': 1}], dtype=object)), 'pickled'),
    ('shape.npy', lambda p: _save(p, np.zeros((10, 64), np.uint8)), 'shape (10, 64)'),
    ('flat.npy', lambda p: _save(p, np.zeros(128, np.uint8)), 'shape (128,)'),
    ('dtype.npy', lambda p: _save(p, np.zeros((10, 128), np.int32)), 'dtype int32'),
    ('empty.npy', lambda p: _save(p, np.zeros((0, 128), np.uint8)), 'empty'),
    ('nan.npy', lambda p: _save(p, np.full((3, 128), np.nan)), 'finite'),
    ('text.npy', lambda p: p.write_text('not numpy at all'), 'not a plain .npy'),
    ('zero_bytes.npy', lambda p: p.write_bytes(b''), 'cannot read'),
    ('raw_pickle.npy', lambda p: p.write_bytes(pickle.dumps([1, 2])), 'no .npy header'),
    ('range.npy', lambda p: _save(p, np.full((3, 128), 2.5)), '[-2, 2]'),
    ('missing.npy', lambda p: None, 'cannot read'),
])
def test_bad_file_is_rejected_and_others_load(tmp_path, good, name, make, reason):
  bad = tmp_path / name
  make(bad)
  result = loader.load_clips([good[0], bad, good[1]])
  assert [c.name for c in result.clips] == ['a.npy', 'b.npy']
  assert len(result.rejected) == 1
  path, why = result.rejected[0]
  assert path == bad and reason in why, why


def test_valid_clips_keep_their_values(good):
  result = loader.load_clips(good)
  assert result.rejected == []
  assert result.clips[0].frames.dtype == np.uint8
  assert result.clips[1].frames.dtype == np.float32
  np.testing.assert_allclose(result.clips[1].frames, np.load(good[1]), rtol=1e-6)


def test_folder_expands_to_its_npy_files(tmp_path, good):
  (tmp_path / 'notes.txt').write_text('ignored')
  result = loader.load_clips([tmp_path])
  assert sorted(c.name for c in result.clips) == ['a.npy', 'b.npy']


def test_duplicates_load_once(good):
  assert len(loader.load_clips([good[0], good[0]]).clips) == 1


def test_more_than_limit_is_refused_before_loading(tmp_path):
  paths = [tmp_path / f'{i}.npy' for i in range(loader.MAX_FILES + 1)]  # need not exist
  with pytest.raises(loader.TooManyFilesError, match='501 files'):
    loader.load_clips(paths)
  with pytest.raises(loader.TooManyFilesError):
    loader.load_clips(paths[:10], already=loader.MAX_FILES - 9)


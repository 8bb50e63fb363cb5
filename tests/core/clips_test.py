"""The clip rule (envsound.core.clips): what every reader of a .npy clip accepts."""

import numpy as np
import pytest

from envsound.core import clips, features
from envsound.core.errors import InvalidInputError

D = features.EMBEDDING_DIM


@pytest.mark.parametrize('array,dtype', [
    (np.full((10, D), 255, np.uint8), np.uint8),
    (np.full((3, D), features.dequantize(np.float32(255)), np.float32), np.float32),
    (np.zeros((12, D), np.float64), np.float32),
    (np.full((1, D), -2.0, np.float16), np.float32)])
def test_good_clips_come_back_as_uint8_or_float32(tmp_path, array, dtype):
  path = tmp_path / 'clip.npy'
  np.save(path, array)
  loaded = clips.load(path)
  assert loaded.dtype == dtype and loaded.shape == array.shape
  np.testing.assert_array_equal(loaded, array.astype(dtype))


@pytest.mark.parametrize('array,reason', [
    (np.zeros(D, np.uint8), f'shape (128,), expected [frames, {D}]'),
    (np.zeros((10, 64), np.uint8), f'shape (10, 64), expected [frames, {D}]'),
    (np.zeros((0, D), np.uint8), 'empty: no frames'),
    (np.zeros((10, D), np.int32), 'dtype int32, expected uint8 or float'),
    (np.full((10, D), np.nan, np.float32), 'float values must be finite (found NaN or inf)'),
    (np.full((10, D), 2.5, np.float32), "float values span [2.5, 2.5], outside VGGish's [-2, 2]"),
    (np.full((10, D), -7.0), "float values span [-7, -7], outside VGGish's [-2, 2]")])
def test_a_clip_against_the_rule_is_one_line_naming_the_source(array, reason):
  with pytest.raises(InvalidInputError) as e:
    clips.check(array, 'clip 3')
  assert str(e.value) == f'clip 3: {reason}'
  assert e.value.path == 'clip 3' and e.value.reason == reason


@pytest.mark.parametrize('name,write,reason', [
    ('pickled.npy', lambda p: np.save(p, np.array([{'a': 1}], dtype=object), allow_pickle=True),
     'not a plain .npy array: holds pickled Python objects, which are refused '
     '(allow_pickle=False)'),
    ('notes.npy', lambda p: p.write_text('rain, 10 s\n'), 'not a plain .npy array: no .npy header'),
    ('pair.npy', lambda p: p.write_bytes(_npz_bytes(p)), 'an .npz archive, not a single .npy array'),
    ('flat.npy', lambda p: np.save(p, np.zeros(D, np.uint8)),
     f'shape (128,), expected [frames, {D}]')])
def test_a_bad_file_is_named(tmp_path, name, write, reason):
  path = tmp_path / name
  write(path)
  with pytest.raises(InvalidInputError) as e:
    clips.load(path)
  assert str(e.value) == f'{path}: {reason}'


def test_a_missing_file_is_named(tmp_path):
  with pytest.raises(InvalidInputError, match=r'missing\.npy: cannot read: .*No such file'):
    clips.load(tmp_path / 'missing.npy')


def _npz_bytes(path):
  archive = path.with_suffix('.tmp.npz')
  np.savez(archive, a=np.zeros((2, D), np.uint8))
  return archive.read_bytes()

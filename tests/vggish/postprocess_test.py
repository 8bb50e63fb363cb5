"""PCA, clipping and quantisation against numpy; reading the PCA file."""

import numpy as np
import pytest
import tensorflow as tf

from envsound.core import features
from envsound.core.errors import InvalidInputError
from envsound.vggish import postprocess
from tests.vggish import reference


def test_postprocess_matches_vggish_postprocess_in_numpy():
  rng = np.random.default_rng(1)
  raw = rng.normal(0, 3, (50, 128)).astype(np.float32)
  eigen = rng.normal(0, 0.1, (128, 128)).astype(np.float32)
  means = rng.normal(0, 1, 128).astype(np.float32)
  want = reference.quantize(reference.postprocess_float(raw, eigen, means))
  got = postprocess.postprocess(tf.constant(raw), tf.constant(eigen), tf.constant(means)).numpy()
  assert got.dtype == np.uint8 and got.shape == (50, 128)
  assert 0.05 < (want == 0).mean() + (want == 255).mean() < 0.9  # both clipping and interior
  np.testing.assert_allclose(got.astype(int), want.astype(int), atol=1)
  assert (got == want).mean() > 0.99


def test_quantize_numpy_and_tf_agree_with_the_reference():
  x = np.concatenate([np.linspace(-2.5, 2.5, 2001), [-2.0, 2.0, 0.0, 1.99]]).astype(np.float32)
  want = reference.quantize(np.clip(x, -2, 2))
  np.testing.assert_array_equal(features.quantize(x), want)
  np.testing.assert_array_equal(features.quantize(tf.constant(x)).numpy(), want)
  assert features.quantize(np.array([-3.0, -2.0, 0.0, 1.99, 2.0, 5.0])).tolist() == [
      0, 0, 127, 254, 255, 255]


def test_read_pca_params_accepts_column_means(tmp_path):
  path = tmp_path / 'pca.npz'
  eigen = np.eye(128)
  np.savez(path, pca_eigen_vectors=eigen, pca_means=np.arange(128.0).reshape(128, 1))
  got_eigen, got_means = postprocess.read_pca_params(path)
  assert got_eigen.dtype == np.float32 and got_means.shape == (128,)
  np.testing.assert_array_equal(got_means, np.arange(128.0))


@pytest.mark.parametrize('arrays,match', [
    ({'pca_means': np.zeros(128)}, "'pca_eigen_vectors' is missing"),
    ({'pca_eigen_vectors': np.eye(128), 'pca_means': np.zeros(64)},
     r"'pca_means' has shape \[64\], expected \[128\]"),
    ({'pca_eigen_vectors': np.full((128, 128), np.nan), 'pca_means': np.zeros(128)},
     'finite'),
])
def test_bad_pca_params_are_named(tmp_path, arrays, match):
  path = tmp_path / 'vggish_pca_params.npz'
  np.savez(path, **arrays)
  with pytest.raises(InvalidInputError, match=match) as error:
    postprocess.read_pca_params(path)
  assert str(error.value).startswith(str(path)) and '\n' not in str(error.value)


def test_not_an_npz(tmp_path):
  path = tmp_path / 'vggish_pca_params.npz'
  path.write_text('hello')
  with pytest.raises(InvalidInputError, match='not a readable .npz archive'):
    postprocess.read_pca_params(path)

"""VGGish fixtures: one random-weight checkpoint, PCA file and exported model per session.

The checkpoint has VGGish's real shapes (72 M parameters, 288 MB), so it is built once.
"""

from pathlib import Path

import numpy as np
import pytest

from envsound.vggish import checkpoint, demo_files, export


@pytest.fixture(scope='session')
def weights():
  return demo_files.random_weights(seed=3)


@pytest.fixture(scope='session')
def pca(weights):
  """(eigen_vectors, means), scaled so the random network's embeddings do not saturate."""
  eigen, means = demo_files.calibrated_pca(weights, seed=3)
  return eigen, means + np.linspace(-0.01, 0.01, len(means), dtype=np.float32)


@pytest.fixture(scope='session')
def vggish_dir(tmp_path_factory) -> Path:
  return tmp_path_factory.mktemp('vggish')


@pytest.fixture(scope='session')
def checkpoint_path(vggish_dir, weights) -> Path:
  """A single-file V1 checkpoint, as Google's vggish_model.ckpt."""
  return checkpoint.write_checkpoint(vggish_dir / 'vggish_model.ckpt', weights, v1=True)


@pytest.fixture(scope='session')
def pca_path(vggish_dir, pca) -> Path:
  path = vggish_dir / 'vggish_pca_params.npz'
  np.savez(path, pca_eigen_vectors=pca[0], pca_means=pca[1])
  return path


@pytest.fixture(scope='session')
def model_dir(vggish_dir, checkpoint_path, pca_path) -> Path:
  """The exported SavedModel version: <serving dir>/vggish/1."""
  return export.export_model(checkpoint_path, pca_path, vggish_dir / 'serving' / 'vggish',
                             version=1)


@pytest.fixture(scope='session')
def signatures(model_dir):
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  loaded = tf.saved_model.load(str(model_dir))
  yield dict(loaded.signatures)
  del loaded

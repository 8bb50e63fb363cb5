"""VGGish fixtures for every test directory: one random-weight checkpoint, PCA file and
exported model per session, and one ``envsound serve`` with it beside a tiny classifier.

The checkpoint has VGGish's real shapes (72 M parameters, 288 MB), so it is built once.
tests/conftest.py imports these fixtures, so tests/vggish, tests/serving and tests/gui share
them.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest

from envsound.core import features

CLASSIFIER = 'tiny_live'
CLASSES = ('urban traffic', 'rail', 'nature', 'speech')


@pytest.fixture(scope='session')
def weights():
  from envsound.vggish import demo_files  # pylint: disable=import-outside-toplevel
  return demo_files.random_weights(seed=3)


@pytest.fixture(scope='session')
def pca(weights):
  """(eigen_vectors, means), scaled so the random network's embeddings do not saturate."""
  from envsound.vggish import demo_files  # pylint: disable=import-outside-toplevel
  eigen, means = demo_files.calibrated_pca(weights, seed=3)
  return eigen, means + np.linspace(-0.01, 0.01, len(means), dtype=np.float32)


@pytest.fixture(scope='session')
def vggish_dir(tmp_path_factory) -> Path:
  return tmp_path_factory.mktemp('vggish')


@pytest.fixture(scope='session')
def checkpoint_path(vggish_dir, weights) -> Path:
  """A single-file V1 checkpoint, as Google's vggish_model.ckpt."""
  from envsound.vggish import checkpoint  # pylint: disable=import-outside-toplevel
  return checkpoint.write_checkpoint(vggish_dir / 'vggish_model.ckpt', weights, v1=True)


@pytest.fixture(scope='session')
def pca_path(vggish_dir, pca) -> Path:
  path = vggish_dir / 'vggish_pca_params.npz'
  np.savez(path, pca_eigen_vectors=pca[0], pca_means=pca[1])
  return path


@pytest.fixture(scope='session')
def model_dir(vggish_dir, checkpoint_path, pca_path) -> Path:
  """The exported SavedModel version: <serving dir>/vggish/1."""
  from envsound.vggish import export  # pylint: disable=import-outside-toplevel
  return export.export_model(checkpoint_path, pca_path, vggish_dir / 'serving' / 'vggish',
                             version=1)


@pytest.fixture(scope='session')
def signatures(model_dir):
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  loaded = tf.saved_model.load(str(model_dir))
  yield dict(loaded.signatures)
  del loaded


@pytest.fixture(scope='session')
def audio_serving_dir(model_dir, tmp_path_factory) -> Path:
  """A serving dir with the VGGish export (as ``vggish``) and a tiny classifier with a map."""
  # pylint: disable=import-outside-toplevel
  from envsound.core import warmup
  from tests.support.tiny_model import export_tiny_model
  root = tmp_path_factory.mktemp('audio_serving')
  shutil.copytree(model_dir.parent, root / features.VGGISH_MODEL_NAME)
  warmup.write_warmup_requests(export_tiny_model(root / CLASSIFIER, 1, CLASSES, seed=4))
  return root


@pytest.fixture(scope='session')
def audio_server(audio_serving_dir, tmp_path_factory):
  """``envsound serve`` with batching on (as ``make demo`` runs it) over audio_serving_dir."""
  # pylint: disable=import-outside-toplevel
  from envsound.serving import model_config, options
  from tests.support.server import local_server
  config = model_config.write_model_config(audio_serving_dir,
                                           audio_serving_dir / 'models.config')
  flags = ['--enable_batching', f'--batching_parameters_file={options.BATCHING_PARAMETERS_FILE}']
  with local_server(model_config_file=config, flags=flags, rest=False, probe_model=CLASSIFIER,
                    log_dir=tmp_path_factory.mktemp('audio_logs'), timeout_s=300) as running:
    yield running

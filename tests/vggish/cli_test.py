"""``envsound vggish export|demo-checkpoint`` from the command line."""

import numpy as np

from envsound import cli
from envsound.vggish import checkpoint, params, postprocess
from tests.vggish.checkpoint_test import save_v2


def test_demo_checkpoint_says_random_and_loads_with_googles_names(tmp_path, capsys):
  assert cli.main(['vggish', 'demo-checkpoint', '--out', str(tmp_path)]) == 0
  out = capsys.readouterr().out
  assert 'RANDOM weights' in out and 'meaningless' in out
  assert 'https://storage.googleapis.com/audioset/vggish_model.ckpt' in out
  assert 'https://storage.googleapis.com/audioset/vggish_pca_params.npz' in out
  weights = checkpoint.read_checkpoint(tmp_path / 'vggish_model.ckpt')
  assert {k: v.shape for k, v in weights.items()} == params.variable_shapes()
  eigen, means = postprocess.read_pca_params(tmp_path / 'vggish_pca_params.npz')
  assert eigen.shape == (128, 128) and means.shape == (128,)
  with np.load(tmp_path / 'vggish_pca_params.npz') as archive:
    assert sorted(archive.files) == ['pca_eigen_vectors', 'pca_means']


def test_export_with_a_misshaped_variable_fails_on_one_line(tmp_path, pca_path, capsys):
  prefix = save_v2(tmp_path / 'bad.ckpt', {'vggish/conv1/weights': np.zeros((3, 3, 1, 32),
                                                                           np.float32)})
  out = tmp_path / 'vggish'
  status = cli.main(['vggish', 'export', '--checkpoint', prefix, '--pca-params', str(pca_path),
                     '--out', str(out)])
  err = capsys.readouterr().err
  assert status == 1 and not out.exists()
  assert err == (f"envsound: error: {prefix}: VGGish variable 'vggish/conv1/weights' has shape "
                 "[3, 3, 1, 32], expected [3, 3, 1, 64]\n")

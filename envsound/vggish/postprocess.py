"""VGGish's post-processing: PCA with ``vggish_pca_params.npz``, clip to [-2, 2], uint8.

AudioSet's released embeddings are ``quantize(clip((raw - pca_means) @ pca_eigen_vectors.T))``.
"""

import zipfile
from pathlib import Path
from typing import Tuple

import numpy as np

from envsound.core import features
from envsound.core.errors import InvalidInputError
from envsound.vggish import params

_DIM = params.EMBEDDING_DIM


def read_pca_params(path) -> Tuple[np.ndarray, np.ndarray]:
  """Returns ``(eigen_vectors [128, 128], means [128])`` as float32 from an ``.npz`` file.

  Raises:
    InvalidInputError: the file is unreadable, not an .npz archive, or an array is missing,
      mis-shaped or not finite.
  """
  path = Path(path)
  try:
    with np.load(path, allow_pickle=False) as archive:
      arrays = {k: archive[k] for k in archive.files}
  except (OSError, ValueError, EOFError, zipfile.BadZipFile, AttributeError, TypeError) as e:
    reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    raise InvalidInputError(path, f'not a readable .npz archive ({reason})') from None
  expected = {params.PCA_EIGEN_VECTORS: [(_DIM, _DIM)],
              params.PCA_MEANS: [(_DIM,), (_DIM, 1), (1, _DIM)]}
  for name, shapes in expected.items():
    if name not in arrays:
      raise InvalidInputError(path, f'array {name!r} is missing (has '
                                    f'{", ".join(sorted(arrays)) or "none"})')
    if arrays[name].shape not in shapes:
      raise InvalidInputError(path, f'array {name!r} has shape {list(arrays[name].shape)}, '
                                    f'expected {list(shapes[0])}')
    if not np.issubdtype(arrays[name].dtype, np.number) or not np.all(
        np.isfinite(arrays[name])):
      raise InvalidInputError(path, f'array {name!r} must hold finite numbers')
  return (arrays[params.PCA_EIGEN_VECTORS].astype(np.float32),
          arrays[params.PCA_MEANS].reshape(_DIM).astype(np.float32))


def write_pca_params(path, eigen_vectors: np.ndarray, means: np.ndarray) -> Path:
  """Writes a ``vggish_pca_params.npz`` with Google's array names."""
  path = Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  with open(path, 'wb') as f:
    np.savez(f, **{params.PCA_EIGEN_VECTORS: eigen_vectors, params.PCA_MEANS: means})
  return path


def postprocess(raw, eigen_vectors, means):
  """Raw embeddings ``[..., 128]`` -> AudioSet's uint8 bytes (tf tensors)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  projected = tf.tensordot(raw - means, tf.transpose(eigen_vectors), 1)
  return features.quantize(projected)

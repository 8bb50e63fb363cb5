"""``envsound vggish export``: checkpoint + PCA file -> a SavedModel version for TF Serving.

Writes ``OUT/<version>/`` (``saved_model.pb``, ``variables/``,
``assets.extra/tf_serving_warmup_requests``) in a hidden staging folder beside it and renames
the finished version into place, so a polling server never sees half a model.
"""

import time
from pathlib import Path
from typing import Optional

import numpy as np

from envsound.core import features, warmup
from envsound.core.atomic import atomic_dir
from envsound.core.errors import EnvsoundError
from envsound.vggish import checkpoint, params, postprocess

WARMUP_SECONDS = 2.0
WARMUP_RECORDS = 6


def next_version(base: Path) -> int:
  """The push time in Unix seconds, or one more than the newest version under ``base``."""
  existing = [int(p.name) for p in base.glob('*') if p.name.isdigit()] if base.is_dir() else []
  return max([int(time.time())] + [v + 1 for v in existing])


def warmup_inputs(signature_def, batch_size: int, rng: np.random.Generator):
  """Quiet noise waveforms of ``WARMUP_SECONDS`` that fit ``signature_def``'s input."""
  dims = len(signature_def.inputs[features.WAVEFORM_INPUT].tensor_shape.dim)
  samples = int(WARMUP_SECONDS * params.SAMPLE_RATE)
  shape = [samples] if dims == 1 else [batch_size, samples]
  return {features.WAVEFORM_INPUT: rng.uniform(-0.1, 0.1, shape).astype(np.float32)}


def export_model(checkpoint_path, pca_params_path, out, version: Optional[int] = None,
                 fc2_relu: bool = False) -> Path:
  """Exports VGGish as ``out/<version>/`` with its signatures and warm-up requests.

  Args:
    checkpoint_path: Google's ``vggish_model.ckpt`` (or a checkpoint with its variables).
    pca_params_path: Google's ``vggish_pca_params.npz``.
    out: the model's base path (e.g. ``<serving dir>/vggish``).
    version: the version number (default: see ``next_version``).
    fc2_relu: ReLU after the last layer, as older revisions of Google's code had.

  Returns:
    The version folder.

  Raises:
    InvalidInputError: a missing or mis-shaped variable or PCA array (nothing is written).
    EnvsoundError: the version exists already.
  """
  weights = checkpoint.read_checkpoint(checkpoint_path)
  eigen_vectors, means = postprocess.read_pca_params(pca_params_path)
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from envsound.vggish.model import VGGishModel  # pylint: disable=import-outside-toplevel
  out = Path(out)
  if out.exists() and not out.is_dir():
    raise EnvsoundError(f'--out {out} is a file, not a model base path')
  version = next_version(out) if version is None else version
  if version < 0:
    raise EnvsoundError(f'--version must be a non-negative integer, got {version}')
  final = out / str(version)
  if final.exists():
    raise EnvsoundError(f'{final} already exists; choose another --version')
  model = VGGishModel(weights, eigen_vectors, means, fc2_relu=fc2_relu)
  del weights
  with atomic_dir(final) as staging:
    tf.saved_model.save(model, str(staging), signatures=model.signatures())
    warmup.write_warmup_requests(
        staging, num_records=WARMUP_RECORDS, batch_size=2, model_name=features.VGGISH_MODEL_NAME,
        signature_name=(features.VGGISH_SIGNATURE, features.WAVEFORM_SIGNATURE),
        make_inputs=warmup_inputs)
  return final

"""Approach 2's cnn1d exported with its own map, fitted on a bench's reference folder.

The Trainer fits the map on the validation split (components/model_map.py); here the same
parts (UMAP, the parametric projection, ``signatures.save_model`` with a ``ReferenceSet``)
run on the clips of a reference folder, so the bench can compare the model's own map with
a live UMAP fit on exactly those clips. The weights are untrained (seeded): the timings do
not depend on them.
"""

import shutil
import time
from pathlib import Path

import numpy as np

from benchlib import DEFAULT_WORK, models


def export_with_map(base_path: Path, reference: Path, work: Path = DEFAULT_WORK,
                    seed: int = 0) -> Path:
  """Exports version 1 under ``base_path`` with a map of ``reference``'s clips; cached."""
  # pylint: disable=import-outside-toplevel
  import tensorflow as tf
  import tensorflow_transform as tft
  import tf_keras
  from envsound.components import projection, signatures, trainer_cnn1d
  from envsound.components.reference_map import ReferenceSet
  from envsound.core import features, warmup
  from envsound.gui import reference as refs
  out = Path(base_path) / '1'
  if (out / 'saved_model.pb').exists():
    return out
  started = time.perf_counter()
  names = models.class_names()
  tft_output = tft.TFTransformOutput(models._transform_graph(Path(work), len(names)))  # pylint: disable=protected-access
  tf_keras.utils.set_random_seed(seed)
  model = trainer_cnn1d.build_model(trainer_cnn1d.Hparams(), len(names))
  plain = Path(base_path) / 'plain'
  shutil.rmtree(plain, ignore_errors=True)
  signatures.save_model(model, str(plain), tft_output, names)
  ref = refs.load_reference(reference)
  embed = tf.saved_model.load(str(plain)).signatures[features.UINT8_SIGNATURE]
  penultimate = np.concatenate([
      embed(**{features.EMBEDDING_INPUT: tf.constant(np.stack(ref.clips[i:i + 250]))})[
          features.PENULTIMATE].numpy() for i in range(0, len(ref), 250)])
  shutil.rmtree(plain)
  net = projection.fit_projection(penultimate, projection.fit_umap(penultimate, seed), seed)
  xy = np.asarray(net.predict(penultimate, batch_size=1024, verbose=0), np.float32)
  signatures.save_model(model, str(out), tft_output, names, net,
                        ReferenceSet(np.array(ref.files), np.array(ref.environments),
                                     penultimate, xy))
  warmup.write_warmup_requests(str(out))
  print(f'exported cnn1d with its own map of {len(ref)} reference clips to {out} in '
        f'{time.perf_counter() - started:.1f} s', flush=True)
  return out

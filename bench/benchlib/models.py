"""Models the benches serve: approach 2's real cnn1d (or a heavier variant) and the tiny model.

Each export has the real Transform graph and serving signatures (as the Trainer writes them)
and warm-up requests; :func:`cached_base_path` exports once per kind and reuses it.
TensorFlow is imported when a model is exported, not on import.
"""

import shutil
import time
from pathlib import Path
from typing import List

import numpy as np

from benchlib import DEFAULT_WORK
from envsound.core import features

KINDS = ('cnn1d', 'cnn1d_heavy', 'tiny')
HEAVY_CNN1D = {'filters': 512, 'conv_layers': 3, 'hidden': 256}  # 16x the cnn1d's compute


def class_names() -> List[str]:
  from envsound.core.taxonomy import load_taxonomy  # pylint: disable=import-outside-toplevel
  return list(load_taxonomy().names)


def _transform_graph(work: Path, num_classes: int, clips: int = 90) -> str:
  """Runs the real Transform once on synthetic AudioSet clips; cached under ``work``."""
  # pylint: disable=import-outside-toplevel
  import tensorflow as tf
  from tensorflow.core.example import example_pb2
  import envsound.schemas
  from envsound.components import local_transform
  from envsound.core.records import encode_clip
  out = work / 'transform'
  graph = out / local_transform.TRANSFORM_GRAPH
  if (out / '.done').exists():
    return str(graph)
  shutil.rmtree(out, ignore_errors=True)
  out.mkdir(parents=True)
  rng = np.random.default_rng(0)
  means = rng.normal(0, 0.6, [num_classes, features.EMBEDDING_DIM])
  path = out / 'train.tfrecord'
  with tf.io.TFRecordWriter(str(path)) as writer:
    for i in range(clips):
      env = i % num_classes
      frames = features.quantize(means[env] + rng.normal(0, 0.5, [(7, 10, 12)[i % 3],
                                                         features.EMBEDDING_DIM]))
      example = example_pb2.SequenceExample.FromString(
          encode_clip(f'v{i:05d}', 0.0, 10.0, [1], frames))
      example.context.feature[features.ENVIRONMENT_KEY].int64_list.value.append(env)
      writer.write(example.SerializeToString())
  schema = local_transform.load_schema(Path(envsound.schemas.__file__).parent /
                                       'audioset_raw.pbtxt')
  local_transform.run_transform({'train': str(path)}, schema, str(out))
  (out / '.done').touch()
  return str(graph)


def export_model(kind: str, base_path: Path, version: int, work: Path = DEFAULT_WORK,
                 seed: int = 0) -> Path:
  """Exports ``kind`` (untrained weights seeded by ``seed``) as ``<base_path>/<version>``.

  cnn1d has approach 2's default Hparams, so its compute per clip is the real model's;
  cnn1d_heavy uses HEAVY_CNN1D; tiny is tests/support's tiny model.
  """
  # pylint: disable=import-outside-toplevel
  from envsound.core import warmup
  names = class_names()
  if kind == 'tiny':
    from tests.support.tiny_model import export_tiny_model
    out = export_tiny_model(base_path, version, names, seed=seed)
  else:
    import tensorflow_transform as tft
    import tf_keras
    from envsound.components import signatures, trainer_cnn1d
    tft_output = tft.TFTransformOutput(_transform_graph(Path(work), len(names)))
    tf_keras.utils.set_random_seed(seed)
    hparams = trainer_cnn1d.Hparams(**(HEAVY_CNN1D if kind == 'cnn1d_heavy' else {}))
    out = Path(base_path) / str(int(version))
    signatures.save_model(trainer_cnn1d.build_model(hparams, len(names)), str(out),
                          tft_output, names)
  warmup.write_warmup_requests(str(out))
  return Path(out)


def cached_base_path(kind: str, work: Path = DEFAULT_WORK) -> Path:
  """A base path holding version 1 of ``kind``, exported once and reused by later runs."""
  base = Path(work) / f'model_{kind}'
  if not (base / '1' / 'saved_model.pb').exists():
    shutil.rmtree(base, ignore_errors=True)
    started = time.perf_counter()
    export_model(kind, base, 1, Path(work))
    print(f'exported {kind} to {base}/1 in {time.perf_counter() - started:.1f} s', flush=True)
  return base


def latest_version_dir(base: Path) -> Path:
  """The newest ``<base>/<version>`` holding a saved_model.pb."""
  versions = sorted(int(p.name) for p in Path(base).iterdir()
                    if p.name.isdigit() and (p / 'saved_model.pb').exists())
  if not versions:
    raise SystemExit(f'{base}: no <version>/saved_model.pb')
  return Path(base) / str(versions[-1])


def clips(n: int, seed: int = 0) -> np.ndarray:
  """``n`` random uint8 clips ``[n, frames, 128]``."""
  return np.random.default_rng(seed).integers(
      0, 256, (n, features.NUM_FRAMES, features.EMBEDDING_DIM), np.uint8)

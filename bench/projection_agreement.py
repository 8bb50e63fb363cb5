"""How well the exported map (the parametric ``map_xy``) agrees with UMAP's own ``transform``.

On a synthetic sample release (``envsound data sample``'s generator; bal_train trains, eval
validates), labelled with the bundled taxonomy and transformed with the pipeline's
preprocessing_fn, approach 2's Trainer (``trainer_cnn1d.run_fn``) trains and exports a model
whose map is fitted on ``--reference`` eval clips. The other eval clips are held out: served
through the SavedModel's ``serving_default`` (penultimate and ``map_xy``), and, as the
baseline, placed with ``UMAP.transform`` of a UMAP fitted on the same reference embeddings
with the Trainer's settings and seed (its own neighbour search, so that it can transform). For both it prints, on the held-out clips (k = 10):

  * trustworthiness (sklearn.manifold) of the 2-D positions against the penultimate space;
  * the share of each clip's 10 nearest held-out neighbours (penultimate space) kept on the map;
  * the share of its 10 nearest reference clips kept on the map (what a user reads off the map);
  * the seconds to place the held-out clips (served map_xy vs UMAP.transform).

It also prints the Trainer's wall time and the seconds its map added (separation.json:
embed, UMAP incl. numba compile, projection), and whether numba's cache was warm.

  .venv/bin/python bench/projection_agreement.py [--clips 4000] [--epochs 3] [--reference N]
"""

import argparse
import json
import os
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

# pylint: disable=wrong-import-position
import numpy as np
import tensorflow as tf
from sklearn.manifold import trustworthiness
from sklearn.neighbors import NearestNeighbors

from envsound.audioset import sample
from envsound.components import local_transform, model_map, preprocessing, projection
from envsound.core import features
from envsound.core.taxonomy import load_taxonomy

K = 10
SCHEMA = Path(features.__file__).parent.parent / 'schemas' / 'audioset_raw.pbtxt'


def labelled_splits(work: Path, clips: int) -> dict:
  """Writes a sample release and its clips with their environment, as ingestion does."""
  release = work / 'release'
  sample.generate_release(release, clips, seed=0, bal_fraction=0.45, eval_fraction=0.45,
                          progress=False)
  taxonomy = load_taxonomy()
  out = {}
  for split, folder in (('train', 'bal_train'), ('eval', 'eval')):
    out[split] = str(work / f'{split}.tfrecord')
    with tf.io.TFRecordWriter(out[split]) as writer:
      for record in tf.data.TFRecordDataset(sorted(map(str, (release / folder).glob('*')))):
        clip = tf.train.SequenceExample.FromString(record.numpy())
        ctx = clip.context.feature
        env = taxonomy.environment_of(ctx[features.LABELS_KEY].int64_list.value)
        if env is not None:
          ctx[features.ENVIRONMENT_KEY].int64_list.value[:] = [env]
          writer.write(clip.SerializeToString())
  return out


def clip_ids(serialized: tf.Tensor) -> list:
  """The clip ids preprocessing_fn gives these raw SequenceExamples."""
  ctx, _, _ = tf.io.parse_sequence_example(serialized, context_features={
      features.VIDEO_ID_KEY: tf.io.VarLenFeature(tf.string),
      features.START_TIME_KEY: tf.io.VarLenFeature(tf.float32)})
  ids = preprocessing.clip_ids(ctx[features.VIDEO_ID_KEY], ctx[features.START_TIME_KEY])
  return [c.decode() for c in ids.numpy()]


def neighbours(points: np.ndarray, queries: np.ndarray, exclude_self: bool) -> np.ndarray:
  k = K + int(exclude_self)
  index = NearestNeighbors(n_neighbors=k).fit(points).kneighbors(queries)[1]
  return index[:, 1:] if exclude_self else index


def kept(a: np.ndarray, b: np.ndarray) -> float:
  """Mean share of neighbour lists ``a`` found in ``b`` (row by row)."""
  return float(np.mean([len(set(x) & set(y)) / K for x, y in zip(a, b)]))


def agreement(pen, xy, ref_pen, ref_xy) -> dict:
  return {'trustworthiness': trustworthiness(pen, xy, n_neighbors=K),
          'held-out 10-NN kept': kept(neighbours(pen, pen, True), neighbours(xy, xy, True)),
          'reference 10-NN kept': kept(neighbours(ref_pen, pen, False),
                                       neighbours(ref_xy, xy, False))}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--clips', type=int, default=4000, help='sample release size')
  parser.add_argument('--epochs', type=int, default=3, help="the Trainer's epochs")
  parser.add_argument('--reference', type=int, default=0,
                      help='reference clips of the map (default: half the eval split)')
  args = parser.parse_args()
  cache = Path(projection.numba_cache_dir())
  warm = cache.is_dir() and any(cache.iterdir())
  work = Path(tempfile.mkdtemp(prefix='envsound-projection-'))
  raw = labelled_splits(work, args.clips)
  local_transform.run_transform(raw, local_transform.load_schema(SCHEMA), str(work))
  eval_records = [r.numpy() for r in tf.data.TFRecordDataset(raw['eval'])]
  reference = args.reference or len(eval_records) // 2

  from tfx.components.trainer.fn_args_utils import FnArgs  # pylint: disable=import-outside-toplevel
  from envsound.components import trainer_cnn1d  # pylint: disable=import-outside-toplevel
  examples = work / local_transform.TRANSFORMED_EXAMPLES
  graph = str(work / local_transform.TRANSFORM_GRAPH)
  fn_args = FnArgs(train_files=[str(examples / 'Split-train' / '*')],
                   eval_files=[str(examples / 'Split-eval' / '*')], transform_output=graph,
                   transform_graph_path=graph, serving_model_dir=str(work / 'serving'),
                   model_run_dir=str(work / 'model_run'),
                   custom_config={'class_names': list(load_taxonomy().names),
                                  'epochs': args.epochs, 'map_reference': reference})
  began = time.perf_counter()
  trainer_cnn1d.run_fn(fn_args)
  trainer_s = time.perf_counter() - began
  record = json.loads((work / 'model_run' / model_map.SEPARATION_FILE).read_text())

  loaded = tf.saved_model.load(str(work / 'serving'))
  rows = loaded.signatures[features.REFERENCE_MAP_SIGNATURE](
      index=tf.range(reference, dtype=tf.int64))
  ref_ids = {c.decode() for c in rows[features.REFERENCE_CLIP_ID].numpy()}
  ref_pen, ref_xy = rows[features.PENULTIMATE].numpy(), rows[features.MAP_XY].numpy()
  held = [r for r, i in zip(eval_records, clip_ids(tf.constant(eval_records)))
          if i not in ref_ids]
  began = time.perf_counter()
  served = loaded.signatures[features.SERVING_SIGNATURE](examples=tf.constant(held))
  served_s = time.perf_counter() - began
  pen, xy = served[features.PENULTIMATE].numpy(), served[features.MAP_XY].numpy()
  reducer = projection.make_umap(len(ref_pen), seed=0)  # the Trainer's settings and seed
  with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    umap_ref = reducer.fit_transform(ref_pen)
    began = time.perf_counter()
    umap_xy = reducer.transform(pen)
  umap_s = time.perf_counter() - began

  ours = agreement(pen, xy, ref_pen, ref_xy)
  base = agreement(pen, umap_xy, ref_pen, umap_ref)
  print(f'\n{len(held)} held-out eval clips, {reference} reference clips, '
        f'{pen.shape[1]}-d penultimate, k = {K}')
  print(f'{"":28s}{"map_xy (parametric)":>22s}{"UMAP.transform":>18s}')
  for key in ours:
    print(f'{key:28s}{ours[key]:22.3f}{base[key]:18.3f}')
  print(f'{"seconds to place held-out":28s}{served_s:22.2f}{umap_s:18.2f}')
  added = sum(record['seconds'].values())
  print(f'\nTrainer run_fn {trainer_s:.1f} s, of which the map {added:.1f} s '
        f'({", ".join(f"{k} {v:.1f}" for k, v in record["seconds"].items())}); '
        f'numba cache {"warm" if warm else "cold"} ({cache})')
  fmt = lambda v: 'n/a' if v is None else f'{v:.2f}'  # pylint: disable=unnecessary-lambda-assignment
  print('separation (kNN agreement / silhouette / clusters): ' + '; '.join(
      f'{space} {fmt(record[space]["knn_agreement"])} / {fmt(record[space]["silhouette"])} / '
      f'{record[space]["clusters"]}' for space in ('embedding', 'map', 'umap')))


if __name__ == '__main__':
  main()

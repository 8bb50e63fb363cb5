"""Fixtures for the model-code tests: tiny synthetic AudioSet clips and their Transform output.

Clips of 3 environments, each a class mean plus noise, quantised as VGGish does; frame counts
vary (7, 10 and 12) so padding and truncation are exercised.
"""

import os
import types

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.example import example_pb2

from envsound.core.records import encode_clip
from envsound.core import features
from envsound.components import local_transform
from envsound.core.taxonomy import Taxonomy  # noqa: F401  (package import check)

NUM_CLASSES = 3
CLASS_NAMES = ('rail', 'nature', 'speech_crowd')
FRAME_COUNTS = (10, 7, 12, 10)
SCHEMA_PATH = os.path.join(os.path.dirname(features.__file__), '..', 'schemas',
                           'audioset_raw.pbtxt')


def make_clips(n: int, seed: int = 0):
  """``n`` clips: list of (uint8 [frames, 128], environment index)."""
  rng = np.random.default_rng(seed)
  means = np.random.default_rng(42).normal(0, 0.6, [NUM_CLASSES, features.EMBEDDING_DIM])
  clips = []
  for i in range(n):
    env = i % NUM_CLASSES
    frames = FRAME_COUNTS[(i // NUM_CLASSES) % len(FRAME_COUNTS)]
    x = means[env] + rng.normal(0, 0.5, [frames, features.EMBEDDING_DIM])
    clips.append((features.quantize(x), env))
  return clips


def serialize(embedding: np.ndarray, env=None, video_id: str = 'vid',
              start: float = 0.0) -> bytes:
  """An AudioSet SequenceExample, with the ``environment`` context feature when given."""
  raw = encode_clip(video_id, start, start + 10.0, [1], embedding)
  if env is None:
    return raw
  ex = example_pb2.SequenceExample.FromString(raw)
  ex.context.feature[features.ENVIRONMENT_KEY].int64_list.value.append(env)
  return ex.SerializeToString()


def clip_id(split: str, i: int) -> str:
  """The clip id (``"<video_id>:<start seconds>"``) write_records gives clip ``i``."""
  return f'{split}{i}:{clip_start(i):g}'


def clip_start(i: int) -> float:
  return 2.5 * (i % 4)


def write_records(path, clips, split: str = 'vid') -> None:
  with tf.io.TFRecordWriter(str(path)) as w:
    for i, (embedding, env) in enumerate(clips):
      w.write(serialize(embedding, env, f'{split}{i}', clip_start(i)))


@pytest.fixture(scope='session')
def raw_schema():
  return local_transform.load_schema(SCHEMA_PATH)


@pytest.fixture(scope='session')
def transformed(tmp_path_factory, raw_schema):
  """Runs the Transform on 60 train and 30 eval clips; returns a dict of paths and clips."""
  root = tmp_path_factory.mktemp('tft')
  clips = {'train': make_clips(60, seed=1), 'eval': make_clips(30, seed=2)}
  for split, cs in clips.items():
    write_records(root / f'{split}.tfrecord', cs, split)
  local_transform.run_transform({s: str(root / f'{s}.tfrecord') for s in clips}, raw_schema,
                                str(root))
  examples = root / local_transform.TRANSFORMED_EXAMPLES
  return {
      'root': root,
      'clips': clips,
      'raw': {s: str(root / f'{s}.tfrecord') for s in clips},
      'transform_graph': str(root / local_transform.TRANSFORM_GRAPH),
      'files': {s: str(examples / f'Split-{s}' / '*') for s in clips},
  }


def fn_args(transformed, out_dir, **custom_config) -> types.SimpleNamespace:
  """The FnArgs fields a TFX Trainer passes to run_fn, on the fixture's Transform output."""
  return types.SimpleNamespace(
      train_files=[transformed['files']['train']], eval_files=[transformed['files']['eval']],
      transform_output=transformed['transform_graph'], transform_graph_path=transformed[
          'transform_graph'],
      serving_model_dir=os.path.join(out_dir, 'model', 'Format-Serving'),
      model_run_dir=os.path.join(out_dir, 'model_run'),
      train_steps=None, eval_steps=None, data_accessor=None,
      custom_config={'approach': 'test', 'model_name': 'test', 'class_names': list(CLASS_NAMES),
                     **custom_config})


@pytest.fixture(scope='session')
def trained_cnn1d(transformed, tmp_path_factory):
  """run_fn of approach 2 on the fixture data; returns its FnArgs."""
  from envsound.components import trainer_cnn1d  # pylint: disable=import-outside-toplevel
  args = fn_args(transformed, str(tmp_path_factory.mktemp('cnn1d')), epochs=4, filters=16, learning_rate=0.01,
                 hidden=8, batch_size=16)
  trainer_cnn1d.run_fn(args)
  return args

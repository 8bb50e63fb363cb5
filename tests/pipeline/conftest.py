"""Fixtures of the pipeline tests: tiny AudioSet releases written with encode_clip, and
``envsound demo`` run once for the session (its pipeline run is what the end-to-end and
console tests read, its server what they query)."""

import pathlib
import shutil
from typing import Dict, List, Optional

import numpy as np
import pytest
import tensorflow as tf

from envsound.core import labels as labels_lib
from envsound.core.records import encode_clip
from envsound.core.taxonomy import load_taxonomy
from tests.support.demo_run import running_demo


def _unassigned_class(taxonomy) -> int:
  return next(c for c in range(len(taxonomy.class_labels))
              if c not in taxonomy.class_to_environment)


def write_release(root: pathlib.Path, clips: Dict[str, List[Optional[int]]], seed: int = 0,
                  malformed: Dict[str, int] = None, video_prefix: Dict[str, str] = None
                  ) -> pathlib.Path:
  """Writes a release whose clips have the given environments (None: unassigned).

  Args:
    root: release root (created).
    clips: split folder -> one environment index (or None) per clip.
    seed: embedding noise seed.
    malformed: split folder -> number of extra records cut short (protobuf cannot parse them).
    video_prefix: split folder -> video id prefix (default: the folder name).
  """
  taxonomy = load_taxonomy()
  rng = np.random.default_rng(seed)
  root.mkdir(parents=True, exist_ok=True)
  shutil.copy(labels_lib.bundled_class_labels_path(), root / 'class_labels_indices.csv')
  for split, envs in clips.items():
    (root / split).mkdir(exist_ok=True)
    prefix = (video_prefix or {}).get(split, split)
    with tf.io.TFRecordWriter(str(root / split / 'aa.tfrecord')) as writer:
      for i, env in enumerate(envs):
        label = (taxonomy.environment_classes(env)[0] if env is not None
                 else _unassigned_class(taxonomy))
        frames = rng.integers(0, 256, size=(10, 128), dtype=np.uint8)
        frames[:, env or 0] = 255  # a little signal per environment
        writer.write(encode_clip(f'{prefix}_{i:05d}', 30.0, 40.0, [label], frames))
      for i in range((malformed or {}).get(split, 0)):
        writer.write(encode_clip(f'bad_{i}', 0.0, 10.0, [0],
                                 np.zeros((10, 128), np.uint8))[:-7])
  return root


@pytest.fixture
def make_release(tmp_path):
  """Returns write_release bound to a folder under tmp_path."""
  def make(name='release', **kwargs):
    return write_release(tmp_path / name, **kwargs)
  return make


@pytest.fixture(scope='session')
def demo(tmp_path_factory):
  """``envsound demo`` on 400 sample clips and one epoch, serving until the session ends.

  One epoch on 400 clips cannot be expected to beat the reference, so ``--min-accuracy 0``
  replaces the gate's comparison (the rule itself: tests/components/quality_gate_test.py).
  """
  workdir = tmp_path_factory.mktemp('demo') / 'demo'
  with running_demo(workdir, clips=400, epochs=1, min_accuracy=0.0) as run:
    yield run


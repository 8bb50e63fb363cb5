"""Fixtures for the AudioSet data layer: hand-built records, tiny releases."""

import numpy as np
import pytest
import tensorflow as tf

from envsound.audioset import sample
from envsound.core import features, records

TINY_CLASSES = (('/m/a0', 'Alpha'), ('/m/b1', 'Beta, the second'), ('/m/c2', 'Gamma'),
                ('/m/d3', 'Delta'), ('/m/e4', 'Epsilon'))


def frames(num: int, seed: int = 0) -> np.ndarray:
  """uint8 [num, 128] pseudo-random frames."""
  return np.random.default_rng(seed).integers(0, 256, (num, features.EMBEDDING_DIM), np.uint8)


def sequence_example(video_id='vid00000001', start=30.0, end=40.0, labels=(1,), embedding=None,
                     omit=()) -> tf.train.SequenceExample:
  """Builds an AudioSet SequenceExample by hand with the tf.train protos (not encode_clip).

  ``omit`` names features to leave out; ``end=None`` leaves out end_time_seconds.
  """
  embedding = frames(10) if embedding is None else embedding
  example = tf.train.SequenceExample()
  ctx = example.context.feature
  if features.VIDEO_ID_KEY not in omit:
    ctx[features.VIDEO_ID_KEY].bytes_list.value.append(video_id.encode())
  if features.START_TIME_KEY not in omit:
    ctx[features.START_TIME_KEY].float_list.value.append(start)
  if end is not None:
    ctx[features.END_TIME_KEY].float_list.value.append(end)
  if features.LABELS_KEY not in omit:
    ctx[features.LABELS_KEY].int64_list.value.extend(labels)
  if features.AUDIO_EMBEDDING_KEY not in omit:
    frame_list = example.feature_lists.feature_list[features.AUDIO_EMBEDDING_KEY]
    for row in embedding:
      frame_list.feature.add().bytes_list.value.append(bytes(row))
  return example


def write_records(path, records) -> None:
  """Writes serialized records (bytes or protos) to a TFRecord file."""
  path.parent.mkdir(parents=True, exist_ok=True)
  with tf.io.TFRecordWriter(str(path)) as writer:
    for record in records:
      writer.write(record if isinstance(record, bytes) else record.SerializeToString())


def write_class_csv(path, classes=TINY_CLASSES) -> None:
  lines = ['index,mid,display_name'] + [f'{i},{mid},"{name}"'
                                        for i, (mid, name) in enumerate(classes)]
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text('\n'.join(lines) + '\n', encoding='utf-8')


def good_clips(count: int, offset: int = 0):
  """``count`` valid hand-built examples for the tiny class list."""
  return [sequence_example(f'vid{offset + i:08d}', start=float(10 * i), end=float(10 * i + 10),
                           labels=(i % 5,), embedding=frames(10, seed=offset + i))
          for i in range(count)]


def tiny_release(root, splits=('bal_train', 'eval'), clips=6):
  """A hand-built release with the tiny 5-class list: ``clips`` per split in two files."""
  for k, split in enumerate(splits):
    half = clips // 2
    write_records(root / split / 'a.tfrecord', good_clips(half, offset=100 * k))
    write_records(root / split / 'b.tfrecord', good_clips(clips - half, offset=100 * k + half))
  write_class_csv(root / features.CLASS_CSV)
  return root


@pytest.fixture(name='sample_release', scope='session')
def _sample_release(tmp_path_factory):
  """A generated sample release of 300 clips (45 / 225 / 30) in shards of 40."""
  root = tmp_path_factory.mktemp('sample') / 'audioset'
  sample.generate_release(root, 300, seed=7, shard_size=40, progress=False)
  return root




def plain_tf_clips(files):
  """(video_id, start, labels, frame bytes) of each record, parsed with plain TensorFlow."""
  out = []
  for path in files:
    for raw in tf.data.TFRecordDataset(str(path)):
      ctx, seq = tf.io.parse_single_sequence_example(raw, *records.parse_spec())
      out.append((ctx[features.VIDEO_ID_KEY].numpy().decode(),
                  float(ctx[features.START_TIME_KEY].numpy()),
                  tuple(ctx[features.LABELS_KEY].numpy().tolist()),
                  b''.join(seq[features.AUDIO_EMBEDDING_KEY].flat_values.numpy().tolist())))
  return out

"""Ingestion transforms on tiny data: environment labels, drop counts, caps, video split."""

import collections

import apache_beam as beam
import numpy as np
import pytest
import tensorflow as tf
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from envsound.components import audioset_example_gen as gen
from envsound.core.records import encode_clip
from envsound.core import features
from envsound.audioset import decode, reader
from envsound.components import ingestion
from envsound.core.errors import EnvsoundError


def _env_and_video(record: bytes):
  clip = tf.train.SequenceExample.FromString(record)
  ctx = clip.context.feature
  return (ctx[features.ENVIRONMENT_KEY].int64_list.value[0],
          ctx[features.VIDEO_ID_KEY].bytes_list.value[0].decode())


def test_fair_caps_keep_rare_environments_whole():
  assert ingestion.fair_caps({0: 1000, 1: 10, 2: 50}, 100) == {0: 45, 1: 10, 2: 45}
  assert ingestion.fair_caps({0: 1000, 1: 10, 2: 30}, 100) == {0: 60, 1: 10, 2: 30}
  assert ingestion.fair_caps({0: 5, 1: 3}, 100) == {0: 5, 1: 3}
  caps = ingestion.fair_caps({0: 7, 1: 7, 2: 7}, 10)
  assert sum(caps.values()) == 10 and max(caps.values()) - min(caps.values()) <= 1


def test_ingest_split_labels_counts_and_drops(make_release):
  root = make_release(clips={'bal_train': [0, 1, 1, None, 2]}, malformed={'bal_train': 2})
  with TestPipeline() as p:
    clips, counts, videos = p | gen.ingestion.IngestSplit(
        [(str(root / 'bal_train' / '*.tfrecord'), 0)], str(root / 'class_labels_indices.csv'),
        'train')
    assert_that(clips | beam.Map(_env_and_video), equal_to(
        [(0, 'bal_train_00000'), (1, 'bal_train_00001'), (1, 'bal_train_00002'),
         (2, 'bal_train_00004')]), label='clips')
    assert_that(counts, equal_to([(ingestion.KEPT, 4), (ingestion.UNASSIGNED, 1),
                                  (decode.NOT_SEQUENCE_EXAMPLE, 2)]), label='counts')
    assert_that(videos, equal_to([{b'bal_train_00000', b'bal_train_00001', b'bal_train_00002',
                                   b'bal_train_00004'}]), label='videos')


def test_caps_prefer_balanced_clips_and_spare_rare_environments(make_release):
  root = make_release(clips={'bal_train': [0] * 4 + [1] * 2, 'unbal_train': [0] * 30 + [1] * 3})
  csv = str(root / 'class_labels_indices.csv')
  with TestPipeline() as p:
    clips, counts, _ = p | gen.ingestion.IngestSplit(
        gen.sources(str(root), '*_train/*.tfrecord'), csv, 'train', max_clips=12)

    def check(pairs):
      per_env = collections.Counter(env for env, _ in pairs)
      assert per_env == {0: 7, 1: 5}, per_env  # environment 1 keeps all 5, 0 the rest
      bal = {v for env, v in pairs if v.startswith('bal_train') and env == 0}
      assert len(bal) == 4, 'bal_train clips go first'
    assert_that(clips | beam.Map(_env_and_video), check, label='clips')
    assert_that(counts, equal_to([(ingestion.KEPT, 12), (ingestion.OVER_CAP, 27)]),
                label='counts')


def test_training_clips_of_validation_videos_are_dropped(make_release):
  root = make_release(clips={'bal_train': [0, 1, 2, 3], 'eval': [0, 1]},
                      video_prefix={'eval': 'bal_train'})  # eval shares videos 0 and 1
  csv = str(root / 'class_labels_indices.csv')
  with TestPipeline() as p:
    _, _, eval_videos = p | 'Eval' >> gen.ingestion.IngestSplit(
        gen.sources(str(root), 'eval/*.tfrecord'), csv, 'eval')
    clips, counts, _ = p | 'Train' >> gen.ingestion.IngestSplit(
        gen.sources(str(root), 'bal_train/*.tfrecord'), csv, 'train',
        exclude_videos=eval_videos)
    assert_that(clips | beam.Map(lambda r: _env_and_video(r)[1]),
                equal_to(['bal_train_00002', 'bal_train_00003']), label='clips')
    assert_that(counts, equal_to([(ingestion.KEPT, 2), (ingestion.VIDEO_IN_EVAL, 2)]),
                label='counts')


def test_sources_name_missing_files(tmp_path):
  with pytest.raises(EnvsoundError, match='no AudioSet records'):
    gen.sources(str(tmp_path), 'eval/*.tfrecord')


def test_label_indices_outside_the_class_list_are_malformed(make_release):
  root = make_release(clips={'bal_train': [0]})
  with tf.io.TFRecordWriter(str(root / 'bal_train' / 'zz.tfrecord')) as writer:
    writer.write(encode_clip('out_of_range', 0.0, 10.0, [527], np.zeros((10, 128), np.uint8)))
    writer.write(encode_clip('negative', 0.0, 10.0, [-1], np.zeros((10, 128), np.uint8)))
  with TestPipeline() as p:
    _, counts, _ = p | gen.ingestion.IngestSplit(
        [(str(root / 'bal_train' / '*.tfrecord'), 0)], str(root / 'class_labels_indices.csv'),
        'train')
    assert_that(counts, equal_to([(ingestion.KEPT, 1), (decode.LABEL_OUT_OF_RANGE, 2)]))


def _sequence_example(frames=None, labels=(0,), video_id=b'v', drop=()):
  example = tf.train.SequenceExample()
  ctx = example.context.feature
  for key, field, values in ((features.VIDEO_ID_KEY, 'bytes_list', [video_id]),
                             (features.START_TIME_KEY, 'float_list', [0.0]),
                             (features.LABELS_KEY, 'int64_list', list(labels))):
    if key not in drop:
      getattr(ctx[key], field).value.extend(values)
  if features.AUDIO_EMBEDDING_KEY not in drop:
    frame_list = example.feature_lists.feature_list[features.AUDIO_EMBEDDING_KEY]
    for frame in frames if frames is not None else [bytes(128)] * 10:
      frame_list.feature.add().bytes_list.value.append(frame)
  return example.SerializeToString()


def test_bad_files_and_records_are_counted_by_kind(make_release):
  """Issue 12 item 5: every kind of bad input through the Beam path is counted, not lost."""
  root = make_release(clips={'bal_train': [0, 1]})
  folder = root / 'bal_train'
  with tf.io.TFRecordWriter(str(folder / 'records.tfrecord')) as writer:
    writer.write(_sequence_example(frames=[bytes(128), bytes(64)]))
    writer.write(_sequence_example(frames=[]))
    writer.write(_sequence_example(drop=(features.AUDIO_EMBEDDING_KEY,)))
    writer.write(_sequence_example(drop=(features.LABELS_KEY,)))
  good = encode_clip('crc', 0.0, 10.0, [0], np.zeros((10, 128), np.uint8))
  with tf.io.TFRecordWriter(str(folder / 'crc.tfrecord')) as writer:
    writer.write(good)
    writer.write(good)
  data = bytearray((folder / 'crc.tfrecord').read_bytes())
  data[-100] ^= 0xFF  # inside the second record's data: its checksum fails
  (folder / 'crc.tfrecord').write_bytes(bytes(data))
  with tf.io.TFRecordWriter(str(folder / 'truncated.tfrecord')) as writer:
    writer.write(good)
    writer.write(good)
  (folder / 'truncated.tfrecord').write_bytes((folder / 'truncated.tfrecord').read_bytes()[:-30])
  (folder / 'text.tfrecord').write_text('video_id,labels\nabc,1\n' * 20)
  with TestPipeline() as p:
    _, counts, _ = p | gen.ingestion.IngestSplit(
        [(str(folder / '*.tfrecord'), 0)], str(root / 'class_labels_indices.csv'), 'train')
    assert_that(counts, equal_to([
        (ingestion.KEPT, 4),  # the two good clips, the first of crc and of truncated
        (decode.BAD_FRAME, 1), (decode.NO_FRAMES, 1), (decode.MISSING_FIELD, 2),
        (reader.BAD_CHECKSUM, 1), (reader.TRUNCATED, 1), (reader.NOT_TFRECORD, 1)]))

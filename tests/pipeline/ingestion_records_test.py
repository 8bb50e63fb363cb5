"""Ingestion writes each kept record as it was read, with its environment added."""

import apache_beam as beam
import numpy as np
import tensorflow as tf
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from envsound.audioset import decode
from envsound.components import ingestion
from envsound.core import features
from envsound.core.records import encode_clip
from envsound.core.taxonomy import load_taxonomy


def _canonical(record: bytes) -> bytes:
  return tf.train.SequenceExample.FromString(record).SerializeToString(deterministic=True)


def test_kept_records_are_the_input_records_plus_their_environment(make_release):
  root = make_release(clips={'bal_train': [0, None, 2, 1]})
  path = root / 'bal_train' / 'aa.tfrecord'
  inputs = [r.numpy() for r in tf.data.TFRecordDataset(str(path))]
  with TestPipeline() as p:
    clips, _, _ = p | ingestion.IngestSplit([(str(path), 0)],
                                            str(root / 'class_labels_indices.csv'), 'train')
    assert_that(clips, equal_to([inputs[0] + _suffix(0), inputs[2] + _suffix(2),
                                 inputs[3] + _suffix(1)]))


def _suffix(env: int) -> bytes:
  example = tf.train.SequenceExample()
  example.context.feature[features.ENVIRONMENT_KEY].int64_list.value.append(env)
  return example.SerializeToString()


def test_a_record_without_end_time_is_written_with_one(make_release):
  root = make_release(clips={'bal_train': []})
  taxonomy = load_taxonomy()
  label = taxonomy.environment_classes(1)[0]
  frames = np.full((4, 128), 7, np.uint8)
  no_end = tf.train.SequenceExample.FromString(encode_clip('v1', 2.5, 0.0, [label], frames))
  del no_end.context.feature[features.END_TIME_KEY]
  path = root / 'bal_train' / 'aa.tfrecord'
  with tf.io.TFRecordWriter(str(path)) as writer:
    writer.write(no_end.SerializeToString())
  expected = encode_clip('v1', 2.5, 6.5, [label], frames, environment=1)
  with TestPipeline() as p:
    clips, counts, _ = p | ingestion.IngestSplit([(str(path), 0)],
                                                 str(root / 'class_labels_indices.csv'), 'train')
    assert_that(clips | beam.Map(_canonical), equal_to([_canonical(expected)]), label='clips')
    assert_that(counts, equal_to([(ingestion.KEPT, 1)]), label='counts')
  assert decode.decode_record(expected, 527).end_time_seconds == 6.5

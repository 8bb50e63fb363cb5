"""A capped split keeps exactly the clips the cap's rule names, each record as an uncapped
read writes it: records are taken back from their files by position, so bad records before
them, a file cut short and a record without end time must not shift or change any.

Records are compared as protobuf's deterministic serialization: a record encoded again (no
end time, or in a reader batch with a bad record) has its map entries in no fixed order."""

import collections

import apache_beam as beam
import numpy as np
import tensorflow as tf
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from envsound.audioset import decode, reader
from envsound.components import audioset_example_gen as gen
from envsound.components import ingestion, labelling
from envsound.core import features
from envsound.core.caps import fair_caps
from envsound.core.records import encode_clip
from envsound.core.taxonomy import load_taxonomy


def _write_mixed(path, taxonomy, envs, rng):
  """Clips of ``envs`` with a cut-short record after every third; one lacks its end time."""
  with tf.io.TFRecordWriter(str(path)) as writer:
    for i, env in enumerate(envs):
      frames = rng.integers(0, 256, size=(int(rng.integers(1, 11)), 128), dtype=np.uint8)
      record = encode_clip(f'{path.stem}_{i:04d}', float(i), float(i) + 10.0,
                           [taxonomy.environment_classes(env)[0]], frames)
      if i == 5:
        example = tf.train.SequenceExample.FromString(record)
        del example.context.feature[features.END_TIME_KEY]
        record = example.SerializeToString()
      writer.write(record)
      if i % 3 == 0:
        writer.write(record[:-9])


def _uncapped(sources, taxonomy):
  """Every labelled clip as ingestion writes it, and the drop counts, read without Beam."""
  records, counts = [], collections.Counter()
  for pattern, priority in sources:
    for part in labelling.labelled_batches(sorted(tf.io.gfile.glob(pattern)), priority,
                                           taxonomy, counts):
      records.extend(part.serialized(i) for i in range(len(part.rows)))
  return records, counts


def _chosen(records, cap):
  """The records the cap's rule keeps: per environment the fair cap's smallest sort keys."""
  keyed = collections.defaultdict(list)
  for record in records:
    ctx = tf.train.SequenceExample.FromString(record).context.feature
    video = ctx[features.VIDEO_ID_KEY].bytes_list.value[0]
    priority = 0 if video.startswith(b'bal_') else 1
    key = labelling.sort_key(video, ctx[features.START_TIME_KEY].float_list.value[0], priority)
    keyed[ctx[features.ENVIRONMENT_KEY].int64_list.value[0]].append((key, record))
  caps = fair_caps({env: len(v) for env, v in keyed.items()}, cap)
  return sorted(_canonical(r) for env, v in keyed.items() for _, r in sorted(v)[:caps[env]])


def _canonical(record: bytes) -> bytes:
  return tf.train.SequenceExample.FromString(record).SerializeToString(deterministic=True)


def test_capped_split_keeps_the_rule_s_clips_as_an_uncapped_read_writes_them(make_release):
  root = make_release(clips={'bal_train': [0, 1, 2, None, 1], 'unbal_train': []})
  taxonomy, rng = load_taxonomy(), np.random.default_rng(3)
  _write_mixed(root / 'bal_train' / 'bal_mixed.tfrecord', taxonomy, [0] * 9 + [3] * 4, rng)
  _write_mixed(root / 'unbal_train' / 'unbal_a.tfrecord', taxonomy, [0] * 40 + [1] * 6, rng)
  cut = root / 'unbal_train' / 'unbal_cut.tfrecord'
  _write_mixed(cut, taxonomy, [2] * 20 + [0] * 20, rng)
  cut.write_bytes(cut.read_bytes()[:-500])  # the last records are lost
  sources = gen.sources(str(root), '*_train/*.tfrecord')
  everything, drops = _uncapped(sources, taxonomy)
  assert set(drops) == {labelling.UNASSIGNED, decode.NOT_SEQUENCE_EXAMPLE, reader.TRUNCATED,
                        reader.EMPTY_FILE}, drops
  for cap in (30, 10**6):
    expected = _chosen(everything, cap)
    counts = {**drops, ingestion.KEPT: len(expected),
              ingestion.OVER_CAP: len(everything) - len(expected)}
    with TestPipeline() as p:
      clips, reasons, _ = p | f'Cap{cap}' >> ingestion.IngestSplit(
          sources, str(root / 'class_labels_indices.csv'), 'train', max_clips=cap)
      assert_that(clips | beam.Map(_canonical) | beam.combiners.ToList() | beam.Map(sorted),
                  equal_to([expected]), label='clips')
      assert_that(reasons, equal_to([kv for kv in counts.items() if kv[1]]), label='counts')
  assert len(everything) > 30 and len(_chosen(everything, 30)) == 30

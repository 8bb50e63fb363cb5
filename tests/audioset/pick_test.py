"""Records picked by position are the file's records at those positions, as serialized."""

import pytest
import tensorflow as tf

from envsound.audioset import pick
from envsound.core.errors import InvalidInputError


def _write(path, n):
  records = [f'record {i} '.encode() * (1 + i % 7) for i in range(n)]
  with tf.io.TFRecordWriter(str(path)) as writer:
    for record in records:
      writer.write(record)
  return records


def test_records_at_returns_each_position_in_the_order_asked(tmp_path):
  records = _write(tmp_path / 'a.tfrecord', 1200)
  positions = [1199, 3, 511, 512, 3, 0, 1024]  # repeated, unsorted
  assert pick.records_at(str(tmp_path / 'a.tfrecord'), positions) == [
      records[p] for p in positions]
  assert pick.records_at(str(tmp_path / 'a.tfrecord'), []) == []


def test_a_position_past_the_end_names_the_file_and_record(tmp_path):
  _write(tmp_path / 'a.tfrecord', 10)
  with pytest.raises(InvalidInputError, match=r'a\.tfrecord, record 10: the file holds only 10'):
    pick.records_at(str(tmp_path / 'a.tfrecord'), [2, 10])

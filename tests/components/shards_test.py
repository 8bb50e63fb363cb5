"""shards.WriteShards: gzip TFRecord shards named as Beam's sink names them, nothing partial."""

import glob
import os

import apache_beam as beam
import pytest
import tensorflow as tf

from envsound.components import shards


def _read(pattern):
  files = sorted(glob.glob(pattern))
  return files, [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type='GZIP')]


@pytest.mark.parametrize('level', [0, 1, 6])
def test_records_come_back_whole_and_no_temporary_folder_stays(tmp_path, level):
  records = [b'record %d ' % i * (i % 7 + 1) for i in range(500)]
  prefix = str(tmp_path / 'Split-train' / 'data_tfrecord')
  with beam.Pipeline() as p:
    _ = p | beam.Create(records) | shards.WriteShards(prefix, level=level)
  files, back = _read(prefix + '-*.gz')
  assert sorted(back) == sorted(records)
  n = len(files)
  assert [os.path.basename(f) for f in files] == [
      f'data_tfrecord-{i:05d}-of-{n:05d}.gz' for i in range(n)]
  assert sorted(os.listdir(tmp_path / 'Split-train')) == [os.path.basename(f) for f in files]


def test_no_records_write_one_empty_shard(tmp_path):
  prefix = str(tmp_path / 'out' / 'part')
  with beam.Pipeline() as p:
    _ = p | beam.Create([], reshuffle=False).with_output_types(bytes) | shards.WriteShards(prefix)
  files, back = _read(prefix + '-*')
  assert [os.path.basename(f) for f in files] == ['part-00000-of-00001.gz'] and back == []
  assert os.listdir(tmp_path / 'out') == ['part-00000-of-00001.gz']


@pytest.mark.parametrize('level', [None, shards.STORED_GZIP_LEVEL, 6])
def test_default_level_stores_records_in_gzip_format(tmp_path, level):
  records = [b'compressible %d ' % i * 200 for i in range(20)]
  prefix = str(tmp_path / 'out' / 'part')
  with beam.Pipeline() as p:
    _ = p | beam.Create(records) | (shards.WriteShards(prefix) if level is None
                                    else shards.WriteShards(prefix, level=level))
  files, back = _read(prefix + '-*.gz')
  data = b''.join(open(f, 'rb').read() for f in files)
  assert sorted(back) == sorted(records) and data[:2] == b'\x1f\x8b'  # gzip
  assert all(r in data for r in records) == (level != 6)  # stored: the bytes as written

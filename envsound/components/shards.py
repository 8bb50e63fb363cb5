"""A Beam sink for serialized records: gzip TFRecord shards written by TensorFlow's writer.

Beam's ``WriteToTFRecord`` frames and compresses each record in Python (zlib at its default
level 6 and crcmod per record); :class:`WriteShards` hands each record to
``tf.io.TFRecordWriter`` (C++) at a chosen gzip level (by default 0, stored). It writes
what that sink writes: one shard per bundle, ``<prefix>-SSSSS-of-NNNNN<suffix>``, gzip
TFRecords that any reader of ``.gz`` TFRecords reads. Bundles write into a temporary folder
beside the shards; a last step renames the shards of the bundles that finished (a retried
bundle's output is never renamed) and removes the folder, so readers never see a partial
shard.
"""

import os
import uuid
from typing import List

import apache_beam as beam
import tensorflow as tf
from apache_beam.transforms import window
from apache_beam.utils import windowed_value

# gzip level 0 ("stored"): gzip framing and CRC-32, no deflate. envsound's shards are
# intermediates read back by TFX components, so CPU counts more than disk (docs/pipeline.md).
STORED_GZIP_LEVEL = 0


class _WriteBundle(beam.DoFn):
  """Writes the records of each bundle to one temporary shard; emits its path."""

  def __init__(self, temp_dir: str, level: int):
    self._temp_dir = temp_dir
    self._level = level
    self._writer = self._path = None

  def start_bundle(self):
    self._writer = self._path = None

  def process(self, record: bytes):
    if self._writer is None:
      tf.io.gfile.makedirs(self._temp_dir)
      self._path = os.path.join(self._temp_dir, uuid.uuid4().hex)
      self._writer = tf.io.TFRecordWriter(self._path, tf.io.TFRecordOptions(
          compression_type='GZIP', compression_level=self._level))
    self._writer.write(record)

  def finish_bundle(self):
    if self._writer is not None:
      self._writer.close()
      yield windowed_value.WindowedValue(self._path, window.GlobalWindow().max_timestamp(),
                                         [window.GlobalWindow()])
    self._writer = self._path = None


def _finalize(paths: List[str], prefix: str, suffix: str, temp_dir: str, level: int) -> None:
  """Renames the finished shards into place (one empty shard if there were no records)."""
  if not paths:
    tf.io.gfile.makedirs(temp_dir)
    empty = os.path.join(temp_dir, 'empty')
    tf.io.TFRecordWriter(empty, tf.io.TFRecordOptions(compression_type='GZIP',
                                                      compression_level=level)).close()
    paths = [empty]
  tf.io.gfile.makedirs(os.path.dirname(prefix))
  for i, path in enumerate(sorted(paths)):
    tf.io.gfile.rename(path, f'{prefix}-{i:05d}-of-{len(paths):05d}{suffix}', overwrite=True)
  tf.io.gfile.rmtree(temp_dir)


@beam.ptransform_fn
def WriteShards(records, prefix: str, suffix: str = '.gz',  # pylint: disable=invalid-name
                level: int = STORED_GZIP_LEVEL):
  """Writes a PCollection of bytes to gzip TFRecord shards ``<prefix>-SSSSS-of-NNNNN<suffix>``.

  Args:
    records: PCollection of serialized records.
    prefix: path prefix of the shards (its folder is created).
    suffix: shard name ending.
    level: gzip compression level (0-9); 0 stores the records uncompressed in gzip format.
  """
  temp_dir = os.path.join(os.path.dirname(prefix), f'.temp-{uuid.uuid4().hex}')
  return (records
          | 'WriteBundles' >> beam.ParDo(_WriteBundle(temp_dir, level))
          | 'Shards' >> beam.combiners.ToList()
          | 'Finalize' >> beam.Map(_finalize, prefix, suffix, temp_dir, level))

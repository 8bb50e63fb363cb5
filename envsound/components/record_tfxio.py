"""TFXIO for tf.SequenceExample TFRecords whose Beam source reads whole files in C++.

tfx_bsl's ``TFSequenceExampleRecord`` reads with Beam's Python TFRecord source (framing,
crc32c and zlib per record in Python, one Beam element per record) and then batches the
records again. :class:`SequenceExampleRecord` is that TFXIO with another Beam source: the
matched files are spread over the workers, each file is read by ``tf.data``'s C++ TFRecord
reader in batches of records, and each batch is decoded by tfx_bsl's
``SequenceExamplesToRecordBatchDecoder`` into one RecordBatch. Schema, ArrowSchema,
TensorRepresentations, TensorAdapterConfig, projection and ``TensorFlowDataset`` are
tfx_bsl's, so what comes out is what ``TFSequenceExampleRecord`` gives, in other batches.

Files ending in ``.gz`` are read as gzip (as Beam's reader does by name); other names as
uncompressed TFRecords.
"""

import re
from typing import Iterator, List, Optional, Sequence, Text

import apache_beam as beam
import pyarrow as pa
from tfx_bsl.coders import sequence_example_coder
from tfx_bsl.tfxio import record_based_tfxio, telemetry, tf_sequence_example_record
from tensorflow_metadata.proto.v0 import schema_pb2

from envsound.core.errors import EnvsoundError

# Records per RecordBatch when the caller gives no batch size (tfx_bsl's adaptive batching
# grows up to the same cap).
DEFAULT_BATCH_SIZE = 1000
_SEQUENCE_COLUMN = tf_sequence_example_record._SEQUENCE_COLUMN_NAME  # pylint: disable=protected-access
# TensorFlow's op names around the reader's own message
_OP_NOISE = re.compile(r'\{\{function_node [^}]*\}\}|\[Op:[^\]]*\].*$')
_UNSUPPORTED_SUFFIXES = ('.bz2', '.deflate', '.zst', '.lzma')


class UnreadableRecordsError(EnvsoundError):
  """A TFRecord file that cannot be read; the message names the file (one line)."""


def _compression(path: str) -> str:
  if path.endswith(_UNSUPPORTED_SUFFIXES):
    raise UnreadableRecordsError(f'{path}: compression not supported here (only .gz or none)')
  return 'GZIP' if path.endswith('.gz') else ''


def _match(pattern: str) -> List[str]:
  """The files ``pattern`` matches, sorted; an error if none does (as Beam's source)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  files = sorted(tf.io.gfile.glob(pattern))
  if not files:
    raise UnreadableRecordsError(f'{pattern}: no file matches this pattern')
  return files


def read_batches(path: str, batch_size: int) -> Iterator[List[bytes]]:
  """The records of one TFRecord file (gzip if it ends in .gz), ``batch_size`` at a time.

  Raises:
    UnreadableRecordsError: the file is missing, corrupt or cut short.
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  dataset = tf.data.TFRecordDataset(path, compression_type=_compression(path)).batch(batch_size)
  try:
    for batch in dataset.as_numpy_iterator():
      yield batch.tolist()
  except tf.errors.OpError as e:
    reason = _OP_NOISE.sub('', e.message.splitlines()[0] if e.message else '').strip()
    raise UnreadableRecordsError(f'{path}: cannot be read as TFRecords '
                                 f'({reason or type(e).__name__})') from None


class _ReadFile(beam.DoFn):
  """Reads one file in batches; yields each batch decoded to a RecordBatch, or as records."""

  def __init__(self, schema: Optional[schema_pb2.Schema], raw_record_column: Optional[str],
               batch_size: int, decode: bool):
    self._schema = schema.SerializeToString() if schema is not None else None
    self._raw_record_column = raw_record_column
    self._batch_size = batch_size
    self._decode = decode
    self._decoder = None

  def setup(self):
    if self._decode:
      args = (_SEQUENCE_COLUMN,) + ((self._schema,) if self._schema else ())
      self._decoder = sequence_example_coder.SequenceExamplesToRecordBatchDecoder(*args)

  def process(self, path: str):
    for records in read_batches(path, self._batch_size):
      if not self._decode:
        yield from records
        continue
      batch = self._decoder.DecodeBatch(records)
      if self._raw_record_column is not None:
        batch = record_based_tfxio.AppendRawRecordColumn(batch, self._raw_record_column,
                                                         records)
      yield batch


@beam.ptransform_fn
def _ReadFiles(pipeline, patterns: Sequence[str], read: beam.DoFn):  # pylint: disable=invalid-name
  return (pipeline
          | 'Patterns' >> beam.Create(list(patterns), reshuffle=False)
          | 'Match' >> beam.FlatMap(_match)
          | 'Spread' >> beam.Reshuffle()
          | 'Read' >> beam.ParDo(read))


class SequenceExampleRecord(tf_sequence_example_record.TFSequenceExampleRecord):
  """``TFSequenceExampleRecord`` whose Beam sources read files with TensorFlow's C++ reader."""

  def BeamSource(self, batch_size: Optional[int] = None) -> beam.PTransform:
    """RecordBatches of ``batch_size`` records (DEFAULT_BATCH_SIZE if None), fewer at the
    end of each file."""
    read = _ReadFile(self._schema, self.raw_record_column_name,
                     batch_size or DEFAULT_BATCH_SIZE, decode=True)

    @beam.typehints.with_output_types(pa.RecordBatch)
    def _source(pipeline):
      return (pipeline
              | 'ReadAndDecode' >> _ReadFiles(self._file_pattern, read)  # pylint: disable=no-value-for-parameter
              | 'CollectRecordBatchTelemetry' >> telemetry.ProfileRecordBatches(
                  self._telemetry_descriptors, self._logical_format, self._physical_format))

    return beam.ptransform_fn(_source)()

  def _RawRecordBeamSourceInternal(self) -> beam.PTransform:
    return _ReadFiles(self._file_pattern,  # pylint: disable=no-value-for-parameter
                      _ReadFile(None, None, DEFAULT_BATCH_SIZE, decode=False))

  def _ProjectImpl(self, tensor_names: List[Text]) -> 'SequenceExampleRecord':
    return SequenceExampleRecord(self._file_pattern, self.telemetry_descriptors,
                                 schema=self._ProjectTfmdSchema(tensor_names),
                                 raw_record_column_name=self.raw_record_column_name)

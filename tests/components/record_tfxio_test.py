"""record_tfxio.SequenceExampleRecord gives what tfx_bsl's TFSequenceExampleRecord gives."""

import pickle

import apache_beam as beam
import pyarrow as pa
import pytest
import tensorflow as tf
from tfx_bsl.public import tfxio

from envsound.components import record_tfxio
from envsound.core.errors import EnvsoundError
from tests.components.conftest import make_clips, serialize

RAW_COLUMN = '__raw__'


def _write(path, clips, name, compression=''):
  with tf.io.TFRecordWriter(str(path), tf.io.TFRecordOptions(compression_type=compression)) as w:
    for i, (embedding, env) in enumerate(clips):
      w.write(serialize(embedding, env, f'{name}{i}', 2.5 * (i % 4)))


@pytest.fixture(scope='module')
def release(tmp_path_factory):
  """Two gzip files, one uncompressed, an empty gzip file and an empty uncompressed one."""
  root = tmp_path_factory.mktemp('records')
  _write(root / 'a-00000.gz', make_clips(7, seed=1), 'a', 'GZIP')
  _write(root / 'b-00001.gz', make_clips(12, seed=2), 'b', 'GZIP')
  _write(root / 'c-00002.tfrecord', make_clips(5, seed=3), 'c')
  _write(root / 'd-00003.gz', [], 'd', 'GZIP')
  (root / 'e-00004.tfrecord').write_bytes(b'')
  return root


def _batches(source, tmp_path, batch_size=None):
  out = tmp_path / f'batches-{id(source)}.pkl'
  with beam.Pipeline() as p:
    _ = (p | source.BeamSource(batch_size)
         | beam.combiners.ToList()
         | beam.Map(lambda batches: out.write_bytes(pickle.dumps(batches))))
  return pickle.loads(out.read_bytes())


def _rows(batches):
  """Every row of ``batches``, in a canonical order (sources need not keep record order)."""
  return sorted((row for b in batches for row in b.to_pylist()), key=repr)


def _sources(pattern, schema, **kwargs):
  return (tfxio.TFSequenceExampleRecord(pattern, ['test'], schema=schema, **kwargs),
          record_tfxio.SequenceExampleRecord(pattern, ['test'], schema=schema, **kwargs))


@pytest.mark.parametrize('pattern', ['*', '*.gz', 'c-*', '[de]-*'])
def test_record_batches_equal_tfx_own(release, raw_schema, tmp_path, pattern):
  theirs, ours = _sources(str(release / pattern), raw_schema)
  expected, got = _batches(theirs, tmp_path), _batches(ours, tmp_path)
  assert all(b.schema.equals(theirs.ArrowSchema()) for b in got)
  assert _rows(got) == _rows(expected)
  assert len(_rows(got)) == {'*': 24, '*.gz': 19, 'c-*': 5, '[de]-*': 0}[pattern]


def test_raw_records_projection_and_batch_size(release, raw_schema, tmp_path):
  theirs, ours = _sources([str(release / 'a-*'), str(release / 'b-*')], raw_schema,
                          raw_record_column_name=RAW_COLUMN)
  theirs, ours = (s.Project(['audio_embedding', 'environment']) for s in (theirs, ours))
  assert isinstance(ours.projected, record_tfxio.SequenceExampleRecord)  # tfx_bsl's wrapper
  got = _batches(ours, tmp_path, batch_size=5)
  assert sorted(b.num_rows for b in got) == [2, 2, 5, 5, 5]  # 7 and 12 records, per file
  assert _rows(got) == _rows(_batches(theirs, tmp_path))
  assert set(got[0].schema.names) == {'##SEQUENCE##', 'environment', RAW_COLUMN}


def test_tensor_adapter_config_equal(raw_schema, release):
  theirs, ours = _sources(str(release / '*'), raw_schema)
  a, b = theirs.TensorAdapterConfig(), ours.TensorAdapterConfig()
  assert a.arrow_schema.equals(b.arrow_schema)
  assert a.tensor_representations == b.tensor_representations


def test_raw_record_source_gives_every_record(release, raw_schema, tmp_path):
  _, ours = _sources(str(release / '*'), raw_schema)
  out = tmp_path / 'raw.pkl'
  with beam.Pipeline() as p:
    _ = (p | ours.RawRecordBeamSource() | beam.combiners.ToList()
         | beam.Map(lambda records: out.write_bytes(pickle.dumps(records))))
  files = sorted(str(f) for f in release.iterdir())
  expected = [r.numpy() for f in files for r in tf.data.TFRecordDataset(
      f, compression_type='GZIP' if f.endswith('.gz') else '')]
  assert sorted(pickle.loads(out.read_bytes())) == sorted(expected)


@pytest.mark.parametrize('damage', ['flip', 'cut'])
def test_unreadable_file_is_one_line_naming_it(release, raw_schema, tmp_path, damage):
  data = (release / 'c-00002.tfrecord').read_bytes()
  bad = tmp_path / 'bad.tfrecord'
  if damage == 'flip':
    middle = len(data) // 2
    bad.write_bytes(data[:middle] + bytes([data[middle] ^ 0xff]) + data[middle + 1:])
  else:
    bad.write_bytes(data[:-10])
  _, ours = _sources(str(bad), raw_schema)
  with pytest.raises(EnvsoundError) as error:
    _batches(ours, tmp_path)
  assert str(bad) in str(error.value) and '\n' not in str(error.value)


def test_pattern_matching_nothing_is_an_error(tmp_path, raw_schema):
  _, ours = _sources(str(tmp_path / 'none-*'), raw_schema)
  with pytest.raises(EnvsoundError, match='no file matches'):
    _batches(ours, tmp_path)


def test_batches_are_arrow_record_batches(release, raw_schema, tmp_path):
  _, ours = _sources(str(release / 'c-*'), raw_schema)
  assert all(isinstance(b, pa.RecordBatch) for b in _batches(ours, tmp_path))


def test_transform_component_reads_raw_sequence_examples_with_it(release, raw_schema):
  """The Transform executor's processor picks this TFXIO for ingestion's output only."""
  # pylint: disable=protected-access
  from tfx.components.transform import executor as tfx_transform
  from tfx.proto import example_gen_pb2
  from envsound.components import transform
  pattern = str(release / '*.gz')

  def created(data_format, file_format='tfrecords_gzip', schema=raw_schema):
    dataset = tfx_transform._Dataset(pattern, file_format, data_format, None)
    return transform._Processor()._CreateTFXIO(dataset, schema)

  ours = created(example_gen_pb2.FORMAT_TF_SEQUENCE_EXAMPLE)
  assert isinstance(ours, record_tfxio.SequenceExampleRecord)
  assert ours.telemetry_descriptors == tfx_transform._TELEMETRY_DESCRIPTORS
  assert created(example_gen_pb2.FORMAT_TF_SEQUENCE_EXAMPLE,
                 example_gen_pb2.FORMAT_TFRECORDS_GZIP).__class__ is ours.__class__
  assert not isinstance(created(example_gen_pb2.FORMAT_TF_EXAMPLE),
                        record_tfxio.SequenceExampleRecord)

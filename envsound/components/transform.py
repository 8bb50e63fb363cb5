"""TFX Transform that says what its transformed_examples hold and writes them faster.

TFX 1.16's Transform writes tf.Examples but leaves its ``transformed_examples`` artifact
without the ``payload_format`` property, so every reader of it (the Trainer's data
accessor) logs that it falls back to FORMAT_TF_EXAMPLE. This executor sets the property.

It also writes the transformed examples with ``shards.WriteShards`` (TensorFlow's C++
TFRecord writer) at gzip level 0 (stored), instead of Beam's Python sink at level 6, whose
compression of the float32 features was most of Transform's CPU time; they take about a
quarter more disk than at level 6. The files keep TFX's names and
gzip format. It reads raw SequenceExample TFRecords with ``record_tfxio`` (TensorFlow's
C++ reader, whole files in batches) instead of Beam's Python TFRecord source; any other
input goes through TFX's own TFXIO. TFX's executor builds its processor by name, so
:class:`Executor` swaps the module's ``TransformProcessor`` for :class:`_Processor` while
it runs.
"""

import contextlib

import apache_beam as beam
from tfx import v1 as tfx
from tfx.components.transform import executor as transform_executor
from tfx.components.transform import labels
from tfx.components.util import examples_utils, tfxio_utils
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2
from tfx.types import standard_component_specs

from envsound.components import record_tfxio, shards

_TFX_PROCESSOR = transform_executor.TransformProcessor
GZIP_LEVEL = shards.STORED_GZIP_LEVEL  # an intermediate: CPU matters more than disk
# tf.Transform's TF1 graph path (``force_tf_compat_v1``): the component and local_transform
# trace ``preprocessing_fn`` in a tf.compat.v1 Graph and write a TF1 SavedModel, which
# TFTransformOutput (the Trainer, the serving signatures) loads as it loads a TF2 one. Here it
# traces and runs in less CPU than the TF2 path (docs/pipeline.md).
TF_COMPAT_V1 = True


class _Processor(_TFX_PROCESSOR):
  """TFX's TransformProcessor, reading raw SequenceExamples with record_tfxio and writing
  TFRecord outputs with shards.WriteShards."""

  def _CreateTFXIO(self, dataset, schema):  # pylint: disable=invalid-name
    if (dataset.data_format == example_gen_pb2.FORMAT_TF_SEQUENCE_EXAMPLE
        and dataset.data_view_uri is None
        and not self._ShouldDecodeAsRawExample(dataset.data_format, None, schema)
        and _is_gzip_tfrecords(dataset.file_format)):
      return record_tfxio.SequenceExampleRecord(
          dataset.file_pattern, transform_executor._TELEMETRY_DESCRIPTORS,  # pylint: disable=protected-access
          schema=schema)
    return super()._CreateTFXIO(dataset, schema)

  @staticmethod
  @beam.ptransform_fn
  def _EncodeAndWrite(pcoll, schema, file_format: str, output_path: str):  # pylint: disable=invalid-name
    if file_format != labels.FORMAT_TFRECORD:
      return pcoll | 'TFX' >> _TFX_PROCESSOR._EncodeAndWrite(  # pylint: disable=protected-access
          schema, file_format, output_path)
    return (pcoll
            | 'EncodeAndSerialize' >> beam.ParDo(
                _TFX_PROCESSOR._RecordBatchToExamplesFn(schema))  # pylint: disable=protected-access
            | 'ExtractExamples' >> beam.Values()
            | 'WriteShards' >> shards.WriteShards(output_path, level=GZIP_LEVEL))


def _is_gzip_tfrecords(file_format) -> bool:
  if isinstance(file_format, str):
    file_format = tfxio_utils._file_format_from_string(file_format)  # pylint: disable=protected-access
  return file_format == example_gen_pb2.FORMAT_TFRECORDS_GZIP


@contextlib.contextmanager
def _envsound_processor():
  transform_executor.TransformProcessor = _Processor
  try:
    yield
  finally:
    transform_executor.TransformProcessor = _TFX_PROCESSOR


class Executor(transform_executor.Executor):
  """TFX's Transform executor with :class:`_Processor`, then ``payload_format``
  FORMAT_TF_EXAMPLE on its examples."""

  def Do(self, input_dict, output_dict, exec_properties) -> None:
    with _envsound_processor():
      super().Do(input_dict, output_dict, exec_properties)
    for examples in output_dict.get(standard_component_specs.TRANSFORMED_EXAMPLES_KEY, []):
      examples_utils.set_payload_format(examples, example_gen_pb2.FORMAT_TF_EXAMPLE)


class Transform(tfx.components.Transform):
  """tfx.components.Transform with :class:`Executor`."""

  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
